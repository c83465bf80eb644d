#pragma once
// The backward engine: one reverse walk over the calling thread's tape.
#include <cstdint>
#include <vector>

#include "autograd/tape.hpp"

namespace tapeflow::autograd {

struct BackwardRequest {
  std::vector<Tensor> roots;
  std::vector<Tensor> root_grads;   // per root; undefined: ones (scalars only, unless implicit_ones)
  bool retain_graph = false;
  bool create_graph = false;
  bool implicit_ones = false;       // GradientTape semantics: seed non-scalar roots with ones
  const std::vector<Tensor>* sources = nullptr;  // capture their gradients instead of .grad
  std::uint64_t min_seq = 0;        // ignore entries recorded before this (GradientTape scope)
  const char* api = "backward";     // for error messages
};

// Runs the walk. With sources, returns their gradients (undefined where unused) and leaves
// .grad() alone; otherwise accumulates into the .grad() of leaves and returns nothing.
std::vector<Tensor> run_backward(const BackwardRequest& request);

}  // namespace tapeflow::autograd
