#pragma once
// The gradient tape's internals: entries, the per-thread tape, and record(), which every
// differentiable op calls after computing its outputs:
//
//   if (autograd::should_record(a, b))
//     autograd::record("mul", {a, b}, {out}, [a, b](const autograd::BackwardArgs& g) {
//       return autograd::Grads{g.needs(0) ? g.grad() * b : Tensor(), g.needs(1) ? g.grad() * a : Tensor()};
//     }, /*saved=*/{a, b});
//
// Backward functions are written with public ops, so they run on every backend and are
// themselves recorded when create_graph is on (higher-order gradients).
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "core/inline_vector.hpp"
#include "core/small_alloc.hpp"
#include "core/small_function.hpp"
#include "tapeflow/autograd.hpp"

namespace tapeflow {
namespace autograd {

struct Entry;
using Grads = std::vector<Tensor>;
// Entry fields keep up to two elements inline (one or two inputs, one output is the common
// case): recording a tiny op then allocates only the entry itself.
template <typename T>
using EntryVec = detail::InlineVector<T, 2>;

// The tensors handed to record(): a view of a braced list ({a, b}) or of a vector. The braced
// list holds references, so recording neither builds a std::vector nor copies the handles (each
// copy is an atomic increment and decrement). Only for parameters: it does not own anything (a
// temporary in the list, such as {out.detach()}, lives until the record() call returns).
class TensorList {
 public:
  struct Ref {
    const Tensor* tensor;
    Ref(const Tensor& t) : tensor(&t) {}  // NOLINT: implicit, so that {a, b} works
  };
  TensorList() = default;
  TensorList(std::initializer_list<Ref> l) : list_(l) {}     // NOLINT: implicit
  TensorList(const std::vector<Tensor>& v) : vector_(&v) {}  // NOLINT: implicit
  std::size_t size() const { return vector_ ? vector_->size() : list_.size(); }
  const Tensor& operator[](std::size_t i) const { return vector_ ? (*vector_)[i] : *list_.begin()[i].tensor; }

 private:
  std::initializer_list<Ref> list_;
  const std::vector<Tensor>* vector_ = nullptr;
};

// What a backward function receives.
struct BackwardArgs {
  const std::vector<Tensor>& grad_outputs;  // undefined where an output received no gradient
  const std::vector<Tensor>& outputs;       // the op's outputs (undefined if already freed)
  const EntryVec<bool>& needs_input_grad;
  bool needs(std::size_t i) const { return i < needs_input_grad.size() && needs_input_grad[i]; }
  // Gradient of output i; zeros of the output's shape when it received none (multi-output ops).
  Tensor grad(std::size_t i = 0) const;
};
// Captures of up to 48 bytes (three Tensors) are stored in the entry itself.
using BackwardFn = detail::SmallFunction<Grads(const BackwardArgs&), 48>;

struct Tape;

struct Entry {
  const char* name = "";
  std::uint64_t seq = 0;
  EntryVec<Tensor> inputs;                          // held strongly
  EntryVec<bool> input_needs_grad;
  EntryVec<std::weak_ptr<TensorImpl>> outputs;      // held weakly
  EntryVec<TensorImpl*> output_keys;                // identity of the outputs
  EntryVec<std::pair<Tensor, std::uint64_t>> saved; // tensors backward reads, with versions
  BackwardFn backward;
  int pins = 0;           // persistent GradientTapes / retained graphs that keep it
  bool released = false;  // backward ran without retain_graph, or pruned

  void release();
  bool outputs_alive() const;
};

}  // namespace autograd

// Per-tensor autograd state, created on first need (TensorImpl::autograd).
struct AutogradMeta {
  std::weak_ptr<autograd::Entry> grad_fn;  // the entry that produced this tensor
  bool is_output = false;                  // produced by a recorded op: not a leaf
  // grad_fn without the weak_ptr's atomics, for output_dropped; valid while grad_fn has not
  // expired, and only looked at on the thread of `tape`, the only one that can destroy it.
  autograd::Entry* entry = nullptr;
  const autograd::Tape* tape = nullptr;
  bool retains_grad = false;
  int watch_count = 0;                     // GradientTapes watching this tensor
  int next_hook_id = 0;
  std::vector<std::pair<int, std::function<Tensor(const Tensor&)>>> hooks;
  ~AutogradMeta();  // an output's end may free its entry (autograd::output_dropped)
};

namespace autograd {

AutogradMeta& meta(TensorImpl& impl);  // creates it if missing
inline bool tracked(const Tensor& t) {
  const TensorImpl* i = t.impl();
  return i && (i->requires_grad || (i->autograd && i->autograd->watch_count > 0));
}
// True when grad mode is on and any argument is tracked. Cheap when nothing requires grad.
template <typename... Ts>
bool should_record(const Ts&... ts) {
  return GradMode::is_enabled() && (... || tracked(ts));
}
bool should_record_list(const std::vector<Tensor>& ts);

// Appends an entry; marks outputs as requiring grad and produced by it. `saved` are tensors the
// backward reads: modifying one in place before backward makes backward throw.
void record(const char* name, TensorList inputs, TensorList outputs, BackwardFn backward, TensorList saved = {});

// The same for user-defined functions (autograd_function.hpp): not checked against the registry.
void record_custom(const char* name, TensorList inputs, TensorList outputs, BackwardFn backward,
                   TensorList saved = {});

// For in-place ops: throws if t is a leaf that requires grad while grad mode is on.
void check_inplace(const char* op, const Tensor& t);

// The calling thread's tape.
struct Tape {
  ~Tape();
  std::vector<std::shared_ptr<Entry>> entries;
  std::uint64_t next_seq = 1;
  std::size_t prune_at = 4096;
  int walking = 0;  // backward passes in progress: no compaction meanwhile
  void compact();   // drops released entries and those whose outputs are all gone
};
Tape& tape();

// Called as a recorded op's output is destroyed: when none of the entry's outputs is left, no
// backward can reach it, so it lets go of its inputs and saved tensors now rather than at the
// next compaction (a forward pass run without backward, e.g. evaluation with grad mode on,
// would otherwise hold thousands of steps' activations). Releases cascade through a queue, not
// recursion, so dropping a long chain does not overflow the stack.
void output_dropped(const AutogradMeta& output) noexcept;

// Reduces a broadcast gradient back to `shape` (sums the broadcast dims).
Tensor sum_to(const Tensor& grad, IntArrayRef shape);

}  // namespace autograd
}  // namespace tapeflow
