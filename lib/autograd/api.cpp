// User-facing autograd entry points: Tensor::backward and friends, grad(), GradientTape.
#include <algorithm>

#include "autograd/engine.hpp"
#include "core/tensor_factory.hpp"

namespace tapeflow {

// ---- Tensor methods ----
void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph) const {
  autograd::BackwardRequest r;
  r.roots = {*this};
  r.root_grads = {gradient};
  r.create_graph = create_graph;
  r.retain_graph = retain_graph.value_or(create_graph);
  autograd::run_backward(r);
}

bool Tensor::is_leaf() const {
  const TensorImpl& t = checked();
  return !t.autograd || !t.autograd->is_output;
}

void Tensor::retain_grad() const {
  if (!requires_grad()) fail<Error>("retain_grad", "called on a tensor that does not require grad");
  if (!is_leaf()) autograd::meta(*impl_).retains_grad = true;
}

bool Tensor::retains_grad() const { return !is_leaf() && impl_->autograd->retains_grad; }

int Tensor::register_hook_fn(std::function<Tensor(const Tensor&)> hook) const {
  if (!requires_grad())
    fail<Error>("register_hook", "cannot register a hook on a tensor that does not require grad");
  AutogradMeta& m = autograd::meta(*impl_);
  const int id = m.next_hook_id++;
  m.hooks.emplace_back(id, std::move(hook));
  return id;
}

void Tensor::remove_hook(int handle) const {
  if (!impl_ || !impl_->autograd) return;
  auto& hooks = impl_->autograd->hooks;
  hooks.erase(std::remove_if(hooks.begin(), hooks.end(), [&](const auto& h) { return h.first == handle; }),
              hooks.end());
}

void Tensor::set_grad(const Tensor& grad) const {
  if (grad.defined() && !(grad.shape() == shape()))
    fail<ShapeError>("set_grad", "gradient of shape ", grad.shape(), " for a tensor of shape ", shape());
  checked();
  impl_->grad = grad.defined() ? grad.impl_ptr() : nullptr;
}

void Tensor::set_data(const Tensor& new_data) const {
  detail::check_defined("set_data", new_data);
  checked();
  if (!is_leaf()) fail<ValueError>("set_data", "only leaf tensors can be re-pointed (this one came from ", grad_fn_name(), ")");
  if (requires_grad() && !new_data.is_floating_point())
    fail<DTypeError>("set_data", "a tensor requiring grad cannot take ", dtype_name(new_data.dtype()), " data");
  const TensorImpl& src = *new_data.impl();
  impl_->storage = src.storage;
  impl_->sizes = src.sizes;
  impl_->strides = src.strides;
  impl_->offset = src.offset;
  impl_->numel = src.numel;
  impl_->dtype = src.dtype;
  impl_->is_view = src.is_view;
  if (impl_->grad && !(Shape(impl_->grad->sizes) == src.sizes)) impl_->grad = nullptr;
}

std::string Tensor::grad_fn_name() const {
  const TensorImpl& t = checked();
  if (!t.autograd) return "";
  auto e = t.autograd->grad_fn.lock();
  return e ? e->name : "";
}

// ---- free functions ----
void backward(const std::vector<Tensor>& tensors, const std::vector<Tensor>& grad_tensors,
              std::optional<bool> retain_graph, bool create_graph) {
  autograd::BackwardRequest r;
  r.roots = tensors;
  r.root_grads = grad_tensors;
  r.create_graph = create_graph;
  r.retain_graph = retain_graph.value_or(create_graph);
  autograd::run_backward(r);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph, bool create_graph,
                         bool allow_unused) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined() || !autograd::tracked(inputs[i]))
      fail<Error>("grad", "input ", i, " does not require grad");
  autograd::BackwardRequest r;
  r.roots = outputs;
  r.root_grads = grad_outputs;
  r.create_graph = create_graph;
  r.retain_graph = retain_graph.value_or(create_graph);
  r.sources = &inputs;
  r.api = "grad";
  std::vector<Tensor> result = autograd::run_backward(r);
  if (!allow_unused)
    for (std::size_t i = 0; i < result.size(); ++i)
      if (!result[i].defined())
        fail<Error>("grad", "input ", i, " was not used to compute the outputs; pass allow_unused=true");
  return result;
}

// ---- GradientTape ----
struct GradientTape::State {
  bool persistent = false;
  bool recording = true;
  bool used = false;
  std::uint64_t start_seq = 0;
  std::vector<Tensor> watched;
};

namespace {
std::vector<GradientTape::State*>& active_tapes() {
  thread_local std::vector<GradientTape::State*> tapes;
  return tapes;
}
}  // namespace

GradientTape::GradientTape(bool persistent) : state_(std::make_shared<State>()) {
  state_->persistent = persistent;
  state_->start_seq = autograd::tape().next_seq;
  active_tapes().push_back(state_.get());
}

GradientTape::~GradientTape() { stop_recording(); }

void GradientTape::stop_recording() {
  if (!state_->recording) return;
  state_->recording = false;
  for (const Tensor& t : state_->watched) --autograd::meta(*t.impl()).watch_count;
  state_->watched.clear();
  auto& tapes = active_tapes();
  tapes.erase(std::remove(tapes.begin(), tapes.end(), state_.get()), tapes.end());
}

void GradientTape::watch(const Tensor& t) {
  if (!t.defined()) fail<ValueError>("GradientTape.watch", "cannot watch an undefined tensor");
  if (!t.is_floating_point())
    fail<DTypeError>("GradientTape.watch", "only floating-point tensors can be watched, got ", t.dtype());
  if (!state_->recording) fail<Error>("GradientTape.watch", "the tape has stopped recording");
  ++autograd::meta(*t.impl()).watch_count;
  state_->watched.push_back(t);
}

std::vector<Tensor> GradientTape::gradient(const Tensor& target, const std::vector<Tensor>& sources,
                                           const Tensor& output_gradient) {
  if (state_->used && !state_->persistent)
    fail<Error>("GradientTape.gradient", "can only be called once on a non-persistent tape; "
                "construct it with GradientTape(/*persistent=*/true)");
  state_->used = true;
  // Recorded by any other tape still recording (nested tapes: higher-order gradients).
  bool outer_recording = false;
  for (State* s : active_tapes())
    if (s != state_.get() && s->recording) outer_recording = true;
  std::vector<Tensor> tracked_sources;
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (sources[i].defined() && autograd::tracked(sources[i])) {
      tracked_sources.push_back(sources[i]);
      positions.push_back(i);
    }
  std::vector<Tensor> result(sources.size());
  if (!autograd::tracked(target)) return result;  // target does not depend on anything watched
  autograd::BackwardRequest r;
  r.roots = {target};
  r.root_grads = {output_gradient};
  r.implicit_ones = true;
  r.create_graph = outer_recording;
  r.retain_graph = state_->persistent || outer_recording;
  r.sources = &tracked_sources;
  r.min_seq = state_->start_seq;
  r.api = "GradientTape.gradient";
  std::vector<Tensor> grads = autograd::run_backward(r);
  for (std::size_t i = 0; i < positions.size(); ++i) result[positions[i]] = grads[i];
  return result;
}

}  // namespace tapeflow
