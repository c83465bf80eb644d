#pragma once
// A dataset over in-memory tensors: example i is row i (dim 0) of the data and target tensors.
#include "tapeflow/data/dataset.hpp"

namespace tapeflow::data {

// Deviation from PyTorch's TensorDataset(*tensors): examples here have two fields, so it takes
// data and an optional target (both indexed along dim 0, which must have the same size).
class TensorDataset : public Dataset {
 public:
  explicit TensorDataset(Tensor data, Tensor target = {});
  std::int64_t size() const override { return data_.size(0); }
  Example get(std::int64_t index) const override;
  std::optional<Batch> get_batch(const std::vector<std::int64_t>& indices) const override;

  const Tensor& data() const { return data_; }
  const Tensor& target() const { return target_; }

 private:
  Tensor data_, target_;
};

// Rows `indices` of each defined tensor, gathered with one index_select each.
Batch gather_rows(const Tensor& data, const Tensor& target, const std::vector<std::int64_t>& indices);

}  // namespace tapeflow::data
