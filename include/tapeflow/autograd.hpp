#pragma once
// Autograd: grad mode, backward(), the TensorFlow-style GradientTape, functional grad(),
// gradient checkpointing, custom functions and anomaly detection.
//
// Every differentiable op appends an entry to the calling thread's tape while grad mode is on and
// one of its inputs requires grad (or is watched by a GradientTape). backward() walks the tape
// once in reverse: execution order is already a topological order. An entry holds its inputs
// strongly and its outputs weakly, so a result dropped without backward() takes its part of the
// tape with it, at once: the entry frees its inputs and saved tensors as its last output goes
// (a forward pass run with grad mode on and no backward, as in evaluation, holds no memory past
// its results). Tapes are per thread: run backward() on the thread that ran the forward pass.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "tapeflow/tensor.hpp"

namespace tapeflow {

// ---- grad mode (thread-local) ----
struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Turns recording off for a scope (evaluation, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Turns recording back on inside a NoGradGuard scope.
class EnableGradGuard {
 public:
  EnableGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(true); }
  ~EnableGradGuard() { GradMode::set_enabled(prev_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool prev_;
};

// Functional gradients: d(sum of outputs[i] * grad_outputs[i]) / d inputs, without touching
// .grad(). grad_outputs may be empty (then every output must be a scalar: seeds of 1).
// An input the outputs do not depend on gets an undefined tensor if allow_unused, else throws.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, std::optional<bool> retain_graph = std::nullopt,
                         bool create_graph = false, bool allow_unused = false);

// Runs the backward pass from several roots at once, accumulating into leaves' .grad().
void backward(const std::vector<Tensor>& tensors, const std::vector<Tensor>& grad_tensors = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false);

// TensorFlow's GradientTape: records ops on watched tensors (and on anything requiring grad)
// while it lives, and gives functional gradients:
//   GradientTape tape; tape.watch(x); auto y = f(x); auto g = tape.gradient(y, {x});
// A non-persistent tape allows one gradient() call; a persistent one any number. A gradient()
// call made while an outer tape is recording is itself recorded (nested tapes give
// higher-order gradients). .grad() of the sources is left untouched.
class GradientTape {
 public:
  explicit GradientTape(bool persistent = false);
  ~GradientTape();
  GradientTape(const GradientTape&) = delete;
  GradientTape& operator=(const GradientTape&) = delete;

  // Records ops on t even though t does not require grad.
  void watch(const Tensor& t);
  // Gradients of target (seeded with output_gradient, or 1 for a scalar) w.r.t. sources;
  // undefined tensors for sources target does not depend on (TensorFlow returns None).
  std::vector<Tensor> gradient(const Tensor& target, const std::vector<Tensor>& sources,
                               const Tensor& output_gradient = {});
  // Stops recording early (ops after this are not on this tape).
  void stop_recording();

  struct State;  // internal

 private:
  std::shared_ptr<State> state_;
};

// Gradient checkpointing: runs fn(inputs) without saving its intermediates, and recomputes them
// during backward. Saves memory for a second forward pass. fn must be deterministic (random ops
// inside it draw the same numbers again: the generator state is replayed).
std::vector<Tensor> checkpoint(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                               const std::vector<Tensor>& inputs);

// Anomaly mode: a NaN or Inf appearing in a gradient throws an Error naming the op whose
// backward produced it. Slows backward down; for debugging.
void set_detect_anomaly(bool enabled);
bool is_anomaly_enabled();

namespace autograd {
// Live entries on the calling thread's tape (for tests and memory diagnostics).
std::size_t tape_size();
// Names of every op that records itself on the tape (each op family registers its names).
// The gradient-check test table must have a row for each; with strict mode on, recording an
// unregistered name throws (the tests turn it on so that no op escapes the table).
std::vector<std::string> differentiable_ops();
void set_strict_registry(bool strict);
// Used by op families at static initialisation: `static const bool r = register_ops({"exp"});`
bool register_ops(std::initializer_list<const char*> names);
}  // namespace autograd

}  // namespace tapeflow
