#include "tapeflow/summary_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "tapeflow/error.hpp"
#include "tensorboard/event_file.hpp"
#include "tensorboard/summary.hpp"

namespace tapeflow {
namespace {

// runs/<MonDD_HH-MM-SS>_<hostname><comment>, PyTorch's default log_dir.
std::string default_log_dir(const std::string& comment) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "%b%d_%H-%M-%S", &local);
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return (std::filesystem::path("runs") / (std::string(stamp) + "_" + host + comment)).string();
}

// All elements as float64, in row-major order, from any device and dtype.
std::vector<double> to_doubles(const Tensor& t) {
  const Tensor flat = t.detach().cpu().to(kFloat64).contiguous();
  const double* data = flat.data_ptr<double>();
  return {data, data + flat.numel()};
}

// The image as interleaved 8-bit HWC pixels, as PyTorch's make_np + convert_to_HWC + scaling.
struct Pixels {
  std::int64_t height = 0, width = 0, channels = 0;
  std::vector<std::uint8_t> data{};
};

Pixels image_pixels(const Tensor& image, const std::string& dataformats) {
  if (dataformats != "CHW" && dataformats != "HWC" && dataformats != "HW")
    fail<ValueError>("add_image", "dataformats \"CHW\", \"HWC\" or \"HW\", got \"", dataformats, "\"");
  if (image.dim() != static_cast<std::int64_t>(dataformats.size()))
    fail<ShapeError>("add_image", "a ", dataformats.size(), "-d tensor for dataformats \"", dataformats,
                     "\", got shape ", image.sizes());
  const auto size_of = [&](char axis) {
    const auto pos = dataformats.find(axis);
    return pos == std::string::npos ? std::int64_t{1} : image.size(static_cast<std::int64_t>(pos));
  };
  const std::int64_t height = size_of('H'), width = size_of('W'), channels = size_of('C');
  if (channels != 1 && channels != 3 && channels != 4)
    fail<ShapeError>("add_image", "1, 3 or 4 channels (", dataformats, "), got shape ", image.sizes());
  if (height < 1 || width < 1)
    fail<ShapeError>("add_image", "a non-empty image (", dataformats, "), got shape ", image.sizes());

  // Floating (and bool) images are in [0, 1] and scaled by 255 in float32, as PyTorch; integer
  // images already hold 0..255. Either way values are clipped to [0, 255] and truncated.
  const bool integer = image.dtype() == kInt32 || image.dtype() == kInt64;
  const Tensor values = integer ? image.detach().cpu().to(kFloat64).contiguous()
                                : image.detach().cpu().to(kFloat32).to(kFloat64).contiguous();
  const double* v = values.data_ptr<double>();
  const auto stride_of = [&](char axis) {
    const auto pos = dataformats.find(axis);
    return pos == std::string::npos ? std::int64_t{0} : values.stride(static_cast<std::int64_t>(pos));
  };
  const std::int64_t sh = stride_of('H'), sw = stride_of('W'), sc = stride_of('C');
  Pixels px{height, width, channels == 1 ? 3 : channels, {}};
  px.data.reserve(static_cast<std::size_t>(height * width * px.channels));
  for (std::int64_t y = 0; y < height; ++y)
    for (std::int64_t x = 0; x < width; ++x)
      for (std::int64_t c = 0; c < px.channels; ++c) {
        const double raw = v[y * sh + x * sw + (channels == 1 ? 0 : c) * sc];
        const float scaled = integer ? static_cast<float>(raw) : static_cast<float>(raw) * 255.0f;
        const float clipped = std::isnan(scaled) ? 0.0f : std::clamp(scaled, 0.0f, 255.0f);
        px.data.push_back(static_cast<std::uint8_t>(clipped));
      }
  return px;
}

}  // namespace

SummaryWriter::SummaryWriter(std::string log_dir, SummaryWriterOptions options)
    : log_dir_(log_dir.empty() ? default_log_dir(options.comment) : std::move(log_dir)), options_(std::move(options)) {
  file_writer();  // create the directory and the file now, so that a bad log_dir fails here
}

SummaryWriter::~SummaryWriter() = default;  // each EventFileWriter closes itself
SummaryWriter::SummaryWriter(SummaryWriter&&) noexcept = default;
SummaryWriter& SummaryWriter::operator=(SummaryWriter&&) noexcept = default;

tensorboard::EventFileWriter& SummaryWriter::file_writer() {
  if (!writer_)
    writer_ = std::make_unique<tensorboard::EventFileWriter>(log_dir_, options_.max_queue, options_.flush_secs,
                                                             options_.filename_suffix);
  return *writer_;
}

void SummaryWriter::add_summary(tensorboard::EventFileWriter& writer, const std::string& summary,
                                std::int64_t global_step, std::optional<double> walltime) {
  writer.add_event(tensorboard::summary_event(walltime.value_or(tensorboard::wall_time_now()), global_step, summary));
}

void SummaryWriter::add_scalar(const std::string& tag, double scalar_value, std::int64_t global_step,
                               std::optional<double> walltime) {
  add_summary(file_writer(), tensorboard::scalar_summary(tag, static_cast<float>(scalar_value)), global_step, walltime);
}

void SummaryWriter::add_scalar(const std::string& tag, const Tensor& scalar_value, std::int64_t global_step,
                               std::optional<double> walltime) {
  if (scalar_value.numel() != 1)
    fail<ShapeError>("add_scalar", "a tensor with one element, got shape ", scalar_value.sizes());
  add_scalar(tag, to_doubles(scalar_value)[0], global_step, walltime);
}

void SummaryWriter::add_scalars(const std::string& main_tag,
                                const std::vector<std::pair<std::string, double>>& tag_scalar_dict,
                                std::int64_t global_step, std::optional<double> walltime) {
  const double group_time = walltime.value_or(tensorboard::wall_time_now());  // one time for the group
  std::string prefix = main_tag;
  std::replace(prefix.begin(), prefix.end(), '/', '_');
  for (const auto& [tag, value] : tag_scalar_dict) {
    const std::string sub_dir = log_dir_ + "/" + prefix + "_" + tag;
    auto& writer = all_writers_[sub_dir];
    if (!writer)
      writer = std::make_unique<tensorboard::EventFileWriter>(sub_dir, options_.max_queue, options_.flush_secs,
                                                              options_.filename_suffix);
    add_summary(*writer, tensorboard::scalar_summary(main_tag, static_cast<float>(value)), global_step, group_time);
  }
}

void SummaryWriter::add_histogram(const std::string& tag, const Tensor& values, std::int64_t global_step,
                                  const std::string& bins, std::optional<double> walltime) {
  if (bins != "tensorflow")
    fail<ValueError>("add_histogram", "bins \"tensorflow\" or an integer count, got \"", bins, "\"");
  const std::vector<double> data = to_doubles(values);
  add_summary(file_writer(),
              tensorboard::histogram_summary(tag, tensorboard::make_histogram(data, tensorboard::tensorflow_bin_edges())),
              global_step, walltime);
}

void SummaryWriter::add_histogram(const std::string& tag, const Tensor& values, std::int64_t global_step,
                                  std::int64_t bins, std::optional<double> walltime) {
  const std::vector<double> data = to_doubles(values);
  const std::vector<double> edges = tensorboard::uniform_bin_edges(data, bins);
  add_summary(file_writer(), tensorboard::histogram_summary(tag, tensorboard::make_histogram(data, edges)),
              global_step, walltime);
}

void SummaryWriter::add_text(const std::string& tag, const std::string& text_string, std::int64_t global_step,
                             std::optional<double> walltime) {
  add_summary(file_writer(), tensorboard::text_summary(tag, text_string), global_step, walltime);
}

void SummaryWriter::add_image(const std::string& tag, const Tensor& img_tensor, std::int64_t global_step,
                              std::optional<double> walltime, const std::string& dataformats) {
  const Pixels px = image_pixels(img_tensor, dataformats);
  const std::string png = tensorboard::encode_png(px.height, px.width, px.channels, px.data.data());
  add_summary(file_writer(), tensorboard::image_summary(tag, px.height, px.width, px.channels, png), global_step,
              walltime);
}

void SummaryWriter::flush() {
  if (writer_) writer_->flush();
  for (auto& [dir, writer] : all_writers_) writer->flush();
}

void SummaryWriter::close() {
  // Close all, then report the first error.
  std::optional<IOError> first_error;
  const auto close_one = [&](std::unique_ptr<tensorboard::EventFileWriter>& writer) {
    if (!writer) return;
    try {
      writer->close();
    } catch (const IOError& e) {
      if (!first_error) first_error.emplace(e);
    }
    writer.reset();
  };
  close_one(writer_);
  for (auto& [dir, writer] : all_writers_) close_one(writer);
  all_writers_.clear();
  if (first_error) throw *first_error;
}

}  // namespace tapeflow
