// The backward engine. Gradients pending for a tensor are keyed by its TensorImpl; because the
// tape is in execution order, by the time the walk reaches the entry that produced a tensor,
// every consumer of it has already contributed, so its gradient is complete (this also makes
// in-place chains work: each in-place entry hands the gradient back to the same impl).
#include "autograd/engine.hpp"

#include <mutex>
#include <unordered_map>

#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow::autograd {
namespace {

struct Pending {
  Tensor tensor;  // keeps the impl (the key) alive
  Tensor grad;
};

std::mutex g_accumulate_mutex;  // leaves may be shared by threads running backward at once

struct WalkGuard {
  bool prev_mode;
  explicit WalkGuard(bool create_graph) : prev_mode(GradMode::is_enabled()) {
    GradMode::set_enabled(create_graph);
    ++tape().walking;
  }
  ~WalkGuard() {
    GradMode::set_enabled(prev_mode);
    if (--tape().walking == 0) tape().compact();
  }
};

Tensor apply_hooks(TensorImpl& impl, Tensor grad) {
  if (!impl.autograd) return grad;
  for (auto& [id, hook] : impl.autograd->hooks) {
    Tensor replaced = hook(grad);
    if (replaced.defined()) {
      if (!(replaced.shape() == grad.shape()))
        fail<ShapeError>("hook", "a gradient hook returned shape ", replaced.shape(), " for a gradient of shape ",
                         grad.shape());
      grad = replaced;
    }
  }
  return grad;
}

void check_finite(const char* op, std::size_t index, const Tensor& g) {
  if (!g.defined() || !g.is_floating_point()) return;
  NoGradGuard no_grad;
  if (!tapeflow::isfinite(g).all().item<bool>())
    fail<Error>("anomaly", "the backward of '", op, "' returned NaN or Inf in its gradient for input ", index,
                " (shape ", g.shape(), ")");
}

// Stores g as (or adds it to) a leaf's .grad().
void accumulate_into_leaf(TensorImpl& impl, Tensor g, bool create_graph) {
  std::lock_guard<std::mutex> lock(g_accumulate_mutex);
  if (!impl.grad) {
    if (!create_graph) {
      // Take g as is when nothing else can see its memory; else copy, so that a later in-place
      // change of one .grad() cannot show up in another (add's backward hands one tensor to both).
      const bool exclusive = g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1 && g.is_contiguous();
      g = exclusive ? g.detach() : g.detach().clone();
    }
    impl.grad = g.impl_ptr();
    return;
  }
  Tensor old(impl.grad);
  if (create_graph) {
    impl.grad = (old + g).impl_ptr();
  } else {
    NoGradGuard no_grad;
    old.add_(g);
  }
}

}  // namespace

std::vector<Tensor> run_backward(const BackwardRequest& req) {
  const char* api = req.api;
  // Nodes come from the per-thread small blocks: a tiny backward creates a handful of them.
  std::unordered_map<TensorImpl*, Pending, std::hash<TensorImpl*>, std::equal_to<TensorImpl*>,
                     detail::SmallAllocator<std::pair<TensorImpl* const, Pending>>>
      pending;
  auto add_grad = [&](const Tensor& t, Tensor g) {
    auto [it, inserted] = pending.try_emplace(t.impl(), Pending{t, Tensor()});
    Pending& p = it->second;
    p.grad = p.grad.defined() ? p.grad + g : std::move(g);
  };

  std::unordered_map<TensorImpl*, std::size_t> source_index;
  std::vector<Tensor> captured;
  if (req.sources) {
    captured.resize(req.sources->size());
    for (std::size_t i = 0; i < req.sources->size(); ++i) source_index.emplace((*req.sources)[i].impl(), i);
  }
  auto capture = [&](TensorImpl* impl, const Tensor& g) {
    auto it = source_index.find(impl);
    if (it == source_index.end()) return false;
    Tensor& slot = captured[it->second];
    slot = slot.defined() ? slot + g : g;
    return true;
  };

  WalkGuard guard(req.create_graph);
  std::uint64_t max_seq = 0;
  for (std::size_t i = 0; i < req.roots.size(); ++i) {
    const Tensor& root = req.roots[i];
    if (!root.defined()) fail<ValueError>(api, "root ", i, " is an undefined tensor");
    if (!tracked(root))
      fail<Error>(api, "element ", i, " of tensors does not require grad and has no grad_fn");
    Tensor g = i < req.root_grads.size() ? req.root_grads[i] : Tensor();
    if (g.defined()) {
      if (!(g.shape() == root.shape()))
        fail<ShapeError>(api, "gradient of shape ", g.shape(), " given for a tensor of shape ", root.shape());
    } else {
      if (root.numel() != 1 && !req.implicit_ones)
        fail<Error>(api, "grad can be implicitly created only for scalar outputs (got shape ", root.shape(),
                    "); pass a gradient");
      g = ones_like(root);
    }
    if (root.impl()->autograd)
      if (auto e = root.impl()->autograd->grad_fn.lock()) max_seq = std::max(max_seq, e->seq);
    add_grad(root, std::move(g));
  }

  Tape& tp = tape();
  std::vector<Tensor> grad_outputs, outputs;
  for (std::size_t i = tp.entries.size(); i-- > 0;) {
    std::shared_ptr<Entry> e = tp.entries[i];  // a copy: entries may grow (create_graph)
    if (!e || e->seq > max_seq || e->seq < req.min_seq) continue;
    // Gather the gradients of this entry's (live) outputs.
    const std::size_t n_out = e->outputs.size();
    grad_outputs.assign(n_out, Tensor());
    outputs.assign(n_out, Tensor());
    bool any = false;
    for (std::size_t k = 0; k < n_out; ++k) {
      std::shared_ptr<TensorImpl> out = e->outputs[k].lock();
      if (!out) continue;
      outputs[k] = Tensor(out);
      auto it = pending.find(out.get());
      if (it == pending.end()) continue;
      Tensor g = std::move(it->second.grad);
      pending.erase(it);
      g = apply_hooks(*out, g);
      if (out->autograd && out->autograd->retains_grad) accumulate_into_leaf(*out, g, req.create_graph);
      capture(out.get(), g);
      grad_outputs[k] = std::move(g);
      any = true;
    }
    if (!any) continue;
    if (e->released)
      fail<Error>(api, "trying to backward through '", e->name, "' a second time: its saved tensors were freed by "
                  "the first backward; pass retain_graph=true to the first call");
    for (const auto& [t, version] : e->saved)
      if (t.impl()->storage->version() != version)
        fail<Error>(api, "a tensor saved by '", e->name, "' for backward was modified in place afterwards (version ",
                    version, " at save, ", t.impl()->storage->version(), " now); clone() it before modifying");
    const BackwardArgs args{grad_outputs, outputs, e->input_needs_grad};
    Grads grads = e->backward(args);
    if (grads.size() != e->inputs.size())
      fail<Error>(api, "backward of '", e->name, "' returned ", grads.size(), " gradients for ", e->inputs.size(),
                  " inputs");
    const bool anomaly = is_anomaly_enabled();
    for (std::size_t k = 0; k < grads.size(); ++k) {
      if (!e->input_needs_grad[k] || !grads[k].defined()) continue;
      // An in-place entry's non-owning `self` input: use the owning handle of the same live output.
      const Tensor* in = &e->inputs[k];
      if (in->impl_ptr().use_count() == 0)
        for (const Tensor& o : outputs)
          if (o.impl() == in->impl()) in = &o;
      const Tensor& input = *in;
      Tensor g = sum_to(grads[k], input.shape());
      // A gradient arrives in its input's dtype and on its device (copy_ and to() may cross them).
      if (g.dtype() != input.dtype() || g.device() != input.device()) g = g.to(input.device(), input.dtype());
      if (anomaly) check_finite(e->name, k, g);
      add_grad(input, std::move(g));
    }
    if (!req.retain_graph) e->release();
  }

  // The last entry's gradients may share memory with a leaf's (a view of them): release them so
  // that a sole owner is moved into .grad() below instead of copied.
  grad_outputs.clear();
  outputs.clear();

  // What is left: gradients of leaves (and of tensors whose producer lies outside the walk).
  for (auto& [impl, p] : pending) {
    const bool leaf = !impl->autograd || !impl->autograd->is_output;
    Tensor g = leaf ? apply_hooks(*impl, std::move(p.grad)) : std::move(p.grad);  // moved: a sole owner is kept, not copied
    if (capture(impl, g)) continue;
    if (!leaf) {
      auto e = impl->autograd->grad_fn.lock();
      if (!e || e->released)
        fail<Error>(api, "trying to backward through the graph a second time (or after its results were freed); "
                    "pass retain_graph=true to the first call");
      continue;  // produced before a GradientTape started: outside its scope
    }
    if (!req.sources && impl->requires_grad) accumulate_into_leaf(*impl, std::move(g), req.create_graph);
  }
  return captured;
}

}  // namespace tapeflow::autograd
