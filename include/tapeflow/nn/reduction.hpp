#pragma once
// How a loss turns its per-element values into its result, as PyTorch's `reduction` argument.
#include <iosfwd>

namespace tapeflow::nn {

// None: the per-element (per-sample) losses; Mean: their mean (weighted losses divide by the
// total weight instead, as PyTorch); Sum: their sum.
enum class Reduction { None, Mean, Sum };

// kl_div alone also has BatchMean: the sum divided by the batch size (input.size(0)), which is
// the mathematically correct KL divergence per sample. A separate enum keeps BatchMean out of
// the losses that do not accept it (PyTorch uses one string and rejects it at run time).
enum class KLDivReduction { None, BatchMean, Sum, Mean };

// "none", "mean", "sum", "batchmean": PyTorch's spellings, for messages.
const char* reduction_name(Reduction r) noexcept;
const char* reduction_name(KLDivReduction r) noexcept;
std::ostream& operator<<(std::ostream& os, Reduction r);
std::ostream& operator<<(std::ostream& os, KLDivReduction r);

}  // namespace tapeflow::nn
