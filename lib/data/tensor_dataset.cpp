#include "tapeflow/data/tensor_dataset.hpp"

#include "tapeflow/creation.hpp"
#include "tapeflow/ops/index.hpp"

namespace tapeflow::data {

TensorDataset::TensorDataset(Tensor data, Tensor target) : data_(std::move(data)), target_(std::move(target)) {
  if (!data_.defined() || data_.dim() == 0)
    fail<ShapeError>("TensorDataset", "data with at least one dim (examples along dim 0)");
  if (target_.defined() && (target_.dim() == 0 || target_.size(0) != data_.size(0)))
    fail<ShapeError>("TensorDataset", "target with dim 0 of size ", data_.size(0), " like data ",
                     data_.toString(), ", but got ", target_.toString());
}

Example TensorDataset::get(std::int64_t index) const {
  check_index("TensorDataset::get", index, size());
  return {data_.select(0, index), target_.defined() ? target_.select(0, index) : Tensor{}};
}

std::optional<Batch> TensorDataset::get_batch(const std::vector<std::int64_t>& indices) const {
  for (auto i : indices) check_index("TensorDataset::get_batch", i, size());
  return gather_rows(data_, target_, indices);
}

Batch gather_rows(const Tensor& data, const Tensor& target, const std::vector<std::int64_t>& indices) {
  const Tensor index = tensor(indices, TensorOptions(kInt64));
  return {index_select(data, 0, index), target.defined() ? index_select(target, 0, index) : Tensor{}};
}

}  // namespace tapeflow::data
