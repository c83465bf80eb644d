// The per-thread tape: grad mode, recording, pruning of unreachable entries.
#include "autograd/tape.hpp"
#include "core/fast_tls.hpp"

#include <atomic>
#include <mutex>
#include <set>
#include <string>

#include "tapeflow/creation.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow {
namespace {
TAPEFLOW_FAST_TLS thread_local bool t_grad_enabled = true;
std::atomic<bool> g_anomaly{false};
}  // namespace

bool GradMode::is_enabled() { return t_grad_enabled; }
void GradMode::set_enabled(bool enabled) { t_grad_enabled = enabled; }

void set_detect_anomaly(bool enabled) { g_anomaly.store(enabled); }
bool is_anomaly_enabled() { return g_anomaly.load(); }

namespace autograd {
namespace {
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& registry() {
  static std::set<std::string>* r = new std::set<std::string>();  // used during static init
  return *r;
}
std::atomic<bool> g_strict{false};
}  // namespace

bool register_ops(std::initializer_list<const char*> names) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  for (const char* n : names) registry().insert(n);
  return true;
}

std::vector<std::string> differentiable_ops() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  return {registry().begin(), registry().end()};
}

void set_strict_registry(bool strict) { g_strict.store(strict); }

static void check_registered(const char* name) {
  if (!g_strict.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(registry_mutex());
  if (!registry().count(name))
    fail<Error>("autograd", "op '", name, "' records on the tape but is not registered with register_ops()");
}

namespace {
// The tape itself has a destructor, so it cannot use the fast TLS model; a plain pointer to it can.
TAPEFLOW_FAST_TLS thread_local Tape* t_tape = nullptr;
}  // namespace

Tape& tape() {
  if (Tape* t = t_tape) return *t;
  thread_local Tape owned;
  t_tape = &owned;
  return owned;
}

namespace {
// 0: the thread's tape works; 1: it is being destroyed (thread exit), so outputs dying with its
// entries must not look it up.
TAPEFLOW_FAST_TLS thread_local unsigned char t_tape_gone = 0;
TAPEFLOW_FAST_TLS thread_local bool t_releasing = false;
// Constructed after the tape (only entries of a live tape are queued), so destroyed before it.
thread_local std::vector<Entry*> t_release_queue;
}  // namespace

Tape::~Tape() { t_tape_gone = 1; }

void output_dropped(const AutogradMeta& output) noexcept {
  // Another thread's entries wait for their compaction. On the owner's thread, an entry that
  // has not expired stays alive meanwhile: only this thread holds owning pointers to it.
  if (t_tape_gone || output.tape != t_tape || output.grad_fn.expired()) return;
  Entry* e = output.entry;
  // Same rule as compact(), for one entry.
  if (e->released || e->pins != 0 || t_tape->walking > 0 || e->outputs_alive()) return;
  if (t_releasing) {  // inside a release further up this thread's stack: queue it
    try {
      t_release_queue.push_back(e);
    } catch (...) {  // out of memory: the next compaction frees it
    }
    return;
  }
  t_releasing = true;
  e->release();
  while (!t_release_queue.empty()) {  // still held by the tape: releasing one only frees what it holds
    Entry* next = t_release_queue.back();
    t_release_queue.pop_back();
    next->release();
  }
  t_releasing = false;
}

std::size_t tape_size() {
  std::size_t n = 0;
  for (const auto& e : tape().entries)
    if (e && !e->released) ++n;
  return n;
}

}  // namespace autograd

AutogradMeta::~AutogradMeta() {
  if (is_output) autograd::output_dropped(*this);
}

namespace autograd {

AutogradMeta& meta(TensorImpl& impl) {
  if (!impl.autograd) impl.autograd = detail::make_small_shared<AutogradMeta>();
  return *impl.autograd;
}

Tensor BackwardArgs::grad(std::size_t i) const {
  if (i < grad_outputs.size() && grad_outputs[i].defined()) return grad_outputs[i];
  const Tensor& out = outputs.at(i);
  return zeros_like(out);
}

void Entry::release() {
  released = true;
  inputs.clear();
  saved.clear();
  backward = nullptr;
}

bool Entry::outputs_alive() const {
  for (const auto& o : outputs)
    if (!o.expired()) return true;
  return false;
}

void Tape::compact() {
  if (walking > 0) return;
  // Reverse order: releasing a late entry frees its inputs, which may leave the entries that
  // produced them with no live outputs; those come earlier and are visited next.
  // An entry only the tape holds is destroyed right away (that frees the same things release does).
  for (std::size_t i = entries.size(); i-- > 0;) {
    Entry* e = entries[i].get();
    if (!e || e->released || e->pins != 0 || e->outputs_alive()) continue;
    if (entries[i].use_count() == 1) entries[i].reset();
    else e->release();
  }
  std::size_t w = 0;
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (entries[i] && !(entries[i]->released && entries[i]->pins == 0)) entries[w++] = std::move(entries[i]);
  entries.resize(w);
  prune_at = std::max<std::size_t>(4096, 2 * w);
}

bool should_record_list(const std::vector<Tensor>& ts) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : ts)
    if (tracked(t)) return true;
  return false;
}

void record(const char* name, TensorList inputs, TensorList outputs, BackwardFn backward, TensorList saved) {
  check_registered(name);
  record_custom(name, inputs, outputs, std::move(backward), saved);
}

void record_custom(const char* name, TensorList inputs, TensorList outputs, BackwardFn backward, TensorList saved) {
  auto is_output = [&](const Tensor& t) {
    for (std::size_t o = 0; o < outputs.size(); ++o)
      if (outputs[o].impl() == t.impl()) return true;
    return false;
  };
  // An in-place op on a view would have to send gradients through to the view's base (PyTorch's
  // CopySlices); that is not implemented, and silently wrong gradients are worse than an error.
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (is_output(inputs[i]) && inputs[i].impl()->is_view)  // inputs may be undefined (no bias)
      fail<Error>(name, "in-place modification of a view (shape ", inputs[i].shape(), ") while gradients are being "
                  "recorded is not supported; modify a clone() of the view, or the base tensor");
  Tape& tp = tape();
  auto e = detail::make_small_shared<Entry>();
  e->name = name;
  e->seq = tp.next_seq++;
  e->input_needs_grad.reserve(inputs.size());
  e->inputs.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& in = inputs[i];
    e->input_needs_grad.push_back(tracked(in));
    // An in-place op's `self` is both an input and an output: hold it without owning it, like the
    // outputs (owning it would keep it, and all it depends on, alive for ever when backward never
    // comes). The engine takes the owning handle from the live output when it walks the entry.
    if (is_output(in)) e->inputs.emplace_back(std::shared_ptr<TensorImpl>(std::shared_ptr<TensorImpl>(), in.impl()));
    else e->inputs.push_back(in);
  }
  e->outputs.reserve(outputs.size());
  e->output_keys.reserve(outputs.size());
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    TensorImpl& impl = *outputs[o].impl();
    impl.requires_grad = true;
    AutogradMeta& m = meta(impl);
    m.grad_fn = e;
    m.is_output = true;
    m.entry = e.get();
    m.tape = &tp;
    e->outputs.push_back(outputs[o].impl_ptr());
    e->output_keys.push_back(&impl);
  }
  e->saved.reserve(saved.size());
  for (std::size_t i = 0; i < saved.size(); ++i)
    e->saved.emplace_back(saved[i], saved[i].impl()->storage->version());
  e->backward = std::move(backward);
  tp.entries.push_back(std::move(e));
  if (tp.entries.size() >= tp.prune_at) tp.compact();
}

void check_inplace(const char* op, const Tensor& t) {
  if (GradMode::is_enabled() && t.requires_grad() && t.is_leaf())
    fail<Error>(op, "a leaf tensor that requires grad is being used in an in-place operation; "
                    "wrap the update in NoGradGuard");
}

Tensor sum_to(const Tensor& grad, IntArrayRef shape) {
  if (grad.shape() == shape) return grad;
  const std::int64_t lead = grad.dim() - static_cast<std::int64_t>(shape.size());
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 0; d < grad.dim(); ++d)
    if (d < lead || (shape[static_cast<std::size_t>(d - lead)] == 1 && grad.size(d) != 1)) dims.push_back(d);
  Tensor r = dims.empty() ? grad : tapeflow::sum(grad, dims, /*keepdim=*/true);
  return r.reshape(shape);
}

}  // namespace autograd
}  // namespace tapeflow
