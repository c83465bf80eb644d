// CSV reader: one pass over the lines, fields parsed with std::from_chars (exact, locale-free).
#include "tapeflow/data/csv.hpp"

#include <charconv>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>
#include <type_traits>

#include "tapeflow/creation.hpp"

namespace tapeflow::data {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::vector<std::string_view> split(std::string_view line, char delimiter) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    const std::size_t end = line.find(delimiter, start);
    fields.push_back(trim(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return fields;
    start = end + 1;
  }
}

bool blank(std::string_view line) { return trim(line).empty(); }

// Positions of the selected columns in each row.
std::vector<std::size_t> resolve_columns(const std::string& path, const CSVOptions& options,
                                         const std::vector<std::string>& names, std::size_t width) {
  std::vector<std::size_t> out;
  if (options.columns.empty()) {
    for (std::size_t c = 0; c < width; ++c) out.push_back(c);
    return out;
  }
  for (const CSVColumn& col : options.columns) {
    if (const auto* pos = std::get_if<std::int64_t>(&col.key())) {
      if (*pos < 0 || static_cast<std::size_t>(*pos) >= width)
        fail<IndexError>("read_csv", "'", path, "': column positions in [0, ", width, "), but got ", *pos);
      out.push_back(static_cast<std::size_t>(*pos));
      continue;
    }
    const std::string& name = std::get<std::string>(col.key());
    if (!options.header) fail<ValueError>("read_csv", "'", path, "': column '", name, "' by name needs header = true");
    std::size_t c = 0;
    while (c < names.size() && names[c] != name) ++c;
    if (c == names.size()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      fail<ValueError>("read_csv", "'", path, "': a column named '", name, "' (the header has: ", known, ")");
    }
    out.push_back(c);
  }
  return out;
}

template <typename T>
T parse(std::string_view field, const std::string& path, std::size_t line, std::size_t column,
        const std::string& column_name) {
  T value{};
  const char* end = field.data() + field.size();
  const char* begin = field.data();
  if (!field.empty() && field.front() == '+') ++begin;  // from_chars rejects a leading '+'
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (field.empty() || ec != std::errc() || ptr != end)
    fail<ValueError>("read_csv", "'", path, "' line ", line, ", column ", column + 1, column_name,
                     ": expected ", std::is_integral_v<T> ? "an integer" : "a number",
                     ec == std::errc::result_out_of_range ? " in range" : "", ", but got '", field, "'");
  return value;
}

template <typename T>
Tensor read_typed(const std::string& path, const CSVOptions& options) {
  std::ifstream in(path);
  if (!in) fail<IOError>("read_csv", "cannot open '", path, "': ", std::strerror(errno));
  std::string line;
  std::size_t line_no = 0;
  std::vector<std::string> names;
  std::vector<std::size_t> columns;
  std::size_t width = 0;
  std::vector<T> values;
  std::int64_t rows = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (blank(line)) continue;
    const std::vector<std::string_view> fields = split(line, options.delimiter);
    if (width == 0) {  // the first non-blank line fixes the width (and may be the header)
      width = fields.size();
      if (options.header) {
        for (auto f : fields) names.emplace_back(f);
        columns = resolve_columns(path, options, names, width);
        continue;
      }
      columns = resolve_columns(path, options, names, width);
    }
    if (fields.size() != width)
      fail<ValueError>("read_csv", "'", path, "' line ", line_no, ": expected ", width, " fields, but got ",
                       fields.size());
    for (std::size_t c : columns)
      values.push_back(parse<T>(fields[c], path, line_no, c, names.empty() ? "" : " ('" + names[c] + "')"));
    ++rows;
  }
  if (in.bad()) fail<IOError>("read_csv", "error while reading '", path, "'");
  return tensor(values, {rows, static_cast<std::int64_t>(columns.size())}, TensorOptions(options.dtype));
}

}  // namespace

Tensor read_csv(const std::string& path, const CSVOptions& options) {
  switch (options.dtype) {
    case kFloat32: return read_typed<float>(path, options);
    case kFloat64: return read_typed<double>(path, options);
    case kInt32: return read_typed<std::int32_t>(path, options);
    case kInt64: return read_typed<std::int64_t>(path, options);
    default: fail<DTypeError>("read_csv", "dtype float32, float64, int32 or int64, but got ", options.dtype);
  }
}

namespace {
// Feature columns: options.columns, or every column except the target (needs the width).
CSVOptions feature_options(const std::string& path, const CSVColumn& target, CSVOptions options) {
  if (!options.columns.empty()) return options;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line) && blank(line)) {
  }
  const std::vector<std::string_view> fields = split(line, options.delimiter);
  for (std::size_t c = 0; c < fields.size(); ++c) {
    const bool is_target = std::holds_alternative<std::int64_t>(target.key())
                               ? std::get<std::int64_t>(target.key()) == static_cast<std::int64_t>(c)
                               : options.header && std::string(fields[c]) == std::get<std::string>(target.key());
    if (!is_target) options.columns.emplace_back(static_cast<std::int64_t>(c));
  }
  return options;
}
}  // namespace

CSVDataset::CSVDataset(const std::string& path, CSVColumn target, CSVOptions options, DType target_dtype)
    : TensorDataset(read_csv(path, feature_options(path, target, options)),
                    read_csv(path, CSVOptions{options.header, options.delimiter, {target}, target_dtype}).reshape({-1})) {}

}  // namespace tapeflow::data
