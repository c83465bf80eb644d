#pragma once
// CSV files as tensors: read_csv (numbers only) and CSVDataset (features + a target column).
#include <string>
#include <variant>
#include <vector>

#include "tapeflow/data/tensor_dataset.hpp"

namespace tapeflow::data {

// A column by name (needs a header) or by 0-based position.
class CSVColumn {
 public:
  CSVColumn(const char* name) : key_(std::string(name)) {}      // NOLINT: implicit on purpose
  CSVColumn(std::string name) : key_(std::move(name)) {}        // NOLINT
  CSVColumn(int position) : key_(std::int64_t{position}) {}     // NOLINT
  CSVColumn(std::int64_t position) : key_(position) {}          // NOLINT
  const std::variant<std::string, std::int64_t>& key() const { return key_; }

 private:
  std::variant<std::string, std::int64_t> key_;
};

struct CSVOptions {
  bool header = true;                 // the first line names the columns
  char delimiter = ',';
  std::vector<CSVColumn> columns{};   // which columns, in this order; empty: all
  DType dtype = kFloat32;             // float32, float64, int32 or int64
};

// A (rows, columns) tensor of the selected columns. Fields may be padded with spaces or quoted;
// blank lines are skipped. Throws IOError when the file cannot be read and ValueError naming the
// file, line and column for a field that is not a number of `dtype` or a row of the wrong width.
Tensor read_csv(const std::string& path, const CSVOptions& options = {});

// Examples: row i of options.columns (or of all columns but the target) as data, and the value
// in `target` (converted to target_dtype, a scalar) as target.
class CSVDataset : public TensorDataset {
 public:
  CSVDataset(const std::string& path, CSVColumn target, CSVOptions options = {}, DType target_dtype = kInt64);
};

}  // namespace tapeflow::data
