#pragma once
// Serialized TensorBoard protos (Event, Summary, HistogramProto, TensorProto), written the way
// PyTorch's torch/utils/tensorboard/summary.py builds them. Field numbers are from TensorFlow's
// event.proto, summary.proto, tensor.proto and tensor_shape.proto.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tapeflow::tensorboard {

double wall_time_now();  // seconds since the Unix epoch, as Python's time.time()

std::string file_version_event(double wall_time);  // Event{wall_time, file_version: "brain.Event:2"}
std::string summary_event(double wall_time, std::int64_t step, const std::string& summary);

std::string scalar_summary(const std::string& tag, float value);  // Summary.Value.simple_value

// HistogramProto fields; bucket[i] counts values up to bucket_limit[i] (right edges only).
struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit{}, bucket{};
};
// PyTorch's default "tensorflow" bin edges: +-1e-12 * 1.1^k up to 1e20, and 0.
const std::vector<double>& tensorflow_bin_edges();
// numpy.histogram(values, bins=count) edges: `count` equal bins over [min, max] (+-0.5 if equal).
std::vector<double> uniform_bin_edges(std::span<const double> values, std::int64_t count);
// PyTorch's make_histogram: numpy.histogram counts over `edges`, trimmed to the bins holding
// values plus one empty bin on the left (TensorBoard stores right edges only).
Histogram make_histogram(std::span<const double> values, std::span<const double> edges);
std::string histogram_summary(const std::string& tag, const Histogram& histogram);

// PyTorch's text summary: tag "<tag>/text_summary", plugin "text", a DT_STRING tensor of shape [1].
std::string text_summary(const std::string& tag, const std::string& text);

std::string image_summary(const std::string& tag, std::int64_t height, std::int64_t width, std::int64_t channels,
                          const std::string& encoded_png);

// An 8-bit PNG of `height` rows of `width` pixels with `channels` (1 gray, 2 gray+alpha, 3 RGB,
// 4 RGBA) interleaved bytes each; compressed with zlib.
std::string encode_png(std::int64_t height, std::int64_t width, std::int64_t channels, const std::uint8_t* pixels);

}  // namespace tapeflow::tensorboard
