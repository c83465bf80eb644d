#pragma once
// Autograd: grad mode, the gradient tape, backward(), TensorFlow-style GradientTape, functional
// grad(), tensor hooks, gradient checkpointing, custom functions and anomaly detection.
//
// Every differentiable op appends an entry to the calling thread's tape while grad mode is on and
// one of its inputs requires grad. backward() walks the tape once in reverse (execution order is
// already a topological order). An entry holds its inputs strongly and its outputs weakly, so a
// result that is dropped without backward() takes its part of the tape with it.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

}  // namespace tapeflow
