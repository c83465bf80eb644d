#include "tensorboard/summary.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tapeflow/error.hpp"
#include "tensorboard/protobuf_writer.hpp"

namespace tapeflow::tensorboard {
namespace {

// Field numbers from TensorFlow's protos.
namespace event_field { enum : std::uint32_t { wall_time = 1, step = 2, file_version = 3, summary = 5 }; }
namespace summary_field { enum : std::uint32_t { value = 1 }; }
namespace value_field { enum : std::uint32_t { tag = 1, simple_value = 2, image = 4, histo = 5, tensor = 8, metadata = 9 }; }
namespace image_field { enum : std::uint32_t { height = 1, width = 2, colorspace = 3, encoded_image_string = 4 }; }
namespace histo_field {
enum : std::uint32_t { min = 1, max = 2, num = 3, sum = 4, sum_squares = 5, bucket_limit = 6, bucket = 7 };
}
namespace metadata_field { enum : std::uint32_t { plugin_data = 1 }; }
namespace plugin_field { enum : std::uint32_t { plugin_name = 1 }; }
namespace tensor_field { enum : std::uint32_t { dtype = 1, tensor_shape = 2, string_val = 8 }; }
namespace shape_field { enum : std::uint32_t { dim = 2, dim_size = 1 }; }
constexpr std::int64_t kDtString = 7;  // tensorflow.DataType.DT_STRING

// A Summary with one Value.
std::string one_value_summary(const ProtoWriter& value) {
  ProtoWriter summary;
  summary.message(summary_field::value, value);
  return summary.str();
}

}  // namespace

double wall_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string file_version_event(double wall_time) {
  ProtoWriter event;
  event.fixed64(event_field::wall_time, wall_time);
  event.bytes(event_field::file_version, "brain.Event:2");
  return event.str();
}

std::string summary_event(double wall_time, std::int64_t step, const std::string& summary) {
  ProtoWriter event;
  event.fixed64(event_field::wall_time, wall_time);
  if (step != 0) event.int64(event_field::step, step);  // proto3 omits default values
  event.bytes(event_field::summary, summary);
  return event.str();
}

std::string scalar_summary(const std::string& tag, float value) {
  ProtoWriter v;
  v.bytes(value_field::tag, tag);
  v.fixed32(value_field::simple_value, value);
  return one_value_summary(v);
}

const std::vector<double>& tensorflow_bin_edges() {
  static const std::vector<double> edges = [] {
    std::vector<double> positive;
    for (double v = 1e-12; v < 1e20; v *= 1.1) positive.push_back(v);
    std::vector<double> all;
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all.push_back(-*it);
    all.push_back(0.0);
    all.insert(all.end(), positive.begin(), positive.end());
    return all;
  }();
  return edges;
}

std::vector<double> uniform_bin_edges(std::span<const double> values, std::int64_t count) {
  if (count < 1) fail<ValueError>("add_histogram", "bins >= 1, got ", count);
  if (values.empty()) fail<ValueError>("add_histogram", "a non-empty tensor, got one with no element");
  auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  double lo = *lo_it, hi = *hi_it;
  if (lo == hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  // numpy.linspace: start + i * step, with the last edge exactly `hi`.
  const double step = (hi - lo) / static_cast<double>(count);
  std::vector<double> edges(static_cast<std::size_t>(count) + 1);
  for (std::size_t i = 0; i < edges.size(); ++i) edges[i] = static_cast<double>(i) * step + lo;
  edges.back() = hi;
  return edges;
}

Histogram make_histogram(std::span<const double> values, std::span<const double> edges) {
  if (values.empty()) fail<ValueError>("add_histogram", "a non-empty tensor, got one with no element");
  if (edges.size() < 2 || !std::is_sorted(edges.begin(), edges.end()))
    fail<ValueError>("add_histogram", "at least 2 increasing bin edges, got ", edges.size());
  Histogram h;
  h.min = values[0];
  h.max = values[0];
  const std::size_t nbins = edges.size() - 1;
  std::vector<double> counts(nbins, 0.0);
  for (double v : values) {
    if (!std::isfinite(v)) fail<ValueError>("add_histogram", "finite values, got ", v);
    h.min = std::min(h.min, v);
    h.max = std::max(h.max, v);
    h.sum += v;
    h.sum_squares += v * v;
    // numpy.histogram bins: [e_i, e_{i+1}), the last one closed; values outside are dropped.
    if (v < edges.front() || v > edges.back()) continue;
    auto bin = static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin()) - 1;
    counts[std::min(bin, nbins - 1)] += 1.0;
  }
  h.num = static_cast<double>(values.size());
  const auto first = std::find_if(counts.begin(), counts.end(), [](double c) { return c > 0; });
  if (first == counts.end()) fail<ValueError>("add_histogram", "values inside the bin edges, got none");
  const auto start = static_cast<std::size_t>(first - counts.begin());
  const auto last = static_cast<std::size_t>(
      counts.rend() - std::find_if(counts.rbegin(), counts.rend(), [](double c) { return c > 0; }) - 1);
  // Bucket i is bounded on the right by edges[i]; the one left of `start` is empty, so that
  // TensorBoard also knows the leftmost edge.
  for (std::size_t i = start; i <= last + 1; ++i) {
    h.bucket_limit.push_back(edges[i]);
    h.bucket.push_back(i == 0 ? 0.0 : counts[i - 1]);
  }
  return h;
}

std::string histogram_summary(const std::string& tag, const Histogram& histogram) {
  ProtoWriter histo;
  histo.fixed64(histo_field::min, histogram.min);
  histo.fixed64(histo_field::max, histogram.max);
  histo.fixed64(histo_field::num, histogram.num);
  histo.fixed64(histo_field::sum, histogram.sum);
  histo.fixed64(histo_field::sum_squares, histogram.sum_squares);
  histo.packed_doubles(histo_field::bucket_limit, histogram.bucket_limit);
  histo.packed_doubles(histo_field::bucket, histogram.bucket);
  ProtoWriter v;
  v.bytes(value_field::tag, tag);
  v.message(value_field::histo, histo);
  return one_value_summary(v);
}

std::string text_summary(const std::string& tag, const std::string& text) {
  ProtoWriter dim;
  dim.int64(shape_field::dim_size, 1);
  ProtoWriter shape;
  shape.message(shape_field::dim, dim);
  ProtoWriter tensor;
  tensor.int64(tensor_field::dtype, kDtString);
  tensor.message(tensor_field::tensor_shape, shape);
  tensor.bytes(tensor_field::string_val, text);
  // TextPluginData(version=0) serializes to nothing, so the plugin content stays empty.
  ProtoWriter plugin;
  plugin.bytes(plugin_field::plugin_name, "text");
  ProtoWriter metadata;
  metadata.message(metadata_field::plugin_data, plugin);
  ProtoWriter v;
  v.bytes(value_field::tag, tag + "/text_summary");
  v.message(value_field::tensor, tensor);
  v.message(value_field::metadata, metadata);
  return one_value_summary(v);
}

std::string image_summary(const std::string& tag, std::int64_t height, std::int64_t width, std::int64_t channels,
                          const std::string& encoded_png) {
  ProtoWriter image;
  image.int64(image_field::height, height);
  image.int64(image_field::width, width);
  image.int64(image_field::colorspace, channels);
  image.bytes(image_field::encoded_image_string, encoded_png);
  ProtoWriter v;
  v.bytes(value_field::tag, tag);
  v.message(value_field::image, image);
  return one_value_summary(v);
}

}  // namespace tapeflow::tensorboard
