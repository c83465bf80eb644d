#pragma once
// SummaryWriter: writes TensorBoard event files, as PyTorch's torch.utils.tensorboard.SummaryWriter
// (PyTorch's C++ frontend has none, so names and semantics follow the Python one).
//
//   tapeflow::SummaryWriter writer("runs/exp1");
//   writer.add_scalar("loss/train", loss.item<double>(), step);
//   writer.add_histogram("fc1.weight", fc1->weight, step);
//   writer.add_image("sample", image_chw, step);  // float in [0, 1], shape (C, H, W)
//
// Each writer owns one file logdir/events.out.tfevents.<time>.<host>.<pid>.<n><suffix>, whose
// first record is an Event with file_version "brain.Event:2". Records are buffered and written
// when `max_queue` are pending, every `flush_secs` seconds (a background thread), on flush(),
// close() and destruction. Writing after close() opens a new event file, as PyTorch does.
// Differences from PyTorch, and why:
//  - global_step defaults to 0 (PyTorch: None, which TensorBoard also reads as step 0).
//  - add_scalars takes (name, value) pairs in order (a Python dict keeps insertion order).
//  - add_image: tapeflow has no uint8 dtype, so integer tensors are taken as 0..255 pixel values
//    (PyTorch scales every non-uint8 tensor by 255); floating and bool tensors are scaled by 255.
//    Values are clipped to [0, 255] as PyTorch >= 2.0 does (1.13 lets them wrap around).
//  - add_histogram rejects NaN/Inf values with ValueError (numpy would give NaN statistics).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/tensor.hpp"

namespace tapeflow {

namespace tensorboard {
class EventFileWriter;
}

struct SummaryWriterOptions {
  std::string comment = "";          // appended to the default log_dir's name (when log_dir is empty)
  int max_queue = 10;                // pending events that force a write
  double flush_secs = 120;           // the longest time an event stays in memory
  std::string filename_suffix = "";  // appended to every event file name
};

class SummaryWriter {
 public:
  // An empty log_dir means runs/<MonDD_HH-MM-SS>_<hostname><comment>, as PyTorch.
  // Throws IOError naming the path when the directory or file cannot be created.
  explicit SummaryWriter(std::string log_dir = "", SummaryWriterOptions options = {});
  ~SummaryWriter();  // closes every event file (errors are swallowed: call close() to see them)
  SummaryWriter(SummaryWriter&&) noexcept;
  SummaryWriter& operator=(SummaryWriter&&) noexcept;
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  const std::string& get_logdir() const { return log_dir_; }

  // One scalar (stored as float32 simple_value). A tensor must hold exactly one element.
  void add_scalar(const std::string& tag, double scalar_value, std::int64_t global_step = 0,
                  std::optional<double> walltime = std::nullopt);
  void add_scalar(const std::string& tag, const Tensor& scalar_value, std::int64_t global_step = 0,
                  std::optional<double> walltime = std::nullopt);
  // Several scalars on one chart: each name gets its own writer in
  // log_dir/<main_tag with '/' -> '_'>_<name>, all logging under the tag main_tag.
  void add_scalars(const std::string& main_tag, const std::vector<std::pair<std::string, double>>& tag_scalar_dict,
                   std::int64_t global_step = 0, std::optional<double> walltime = std::nullopt);
  // A histogram of all elements. bins "tensorflow" (default): PyTorch's exponential buckets
  // +-1e-12 * 1.1^k; or an integer: that many equal-width bins over [min, max] (numpy's rule).
  void add_histogram(const std::string& tag, const Tensor& values, std::int64_t global_step = 0,
                     const std::string& bins = "tensorflow", std::optional<double> walltime = std::nullopt);
  void add_histogram(const std::string& tag, const Tensor& values, std::int64_t global_step, std::int64_t bins,
                     std::optional<double> walltime = std::nullopt);
  // Text (markdown) for TensorBoard's text plugin, under the tag "<tag>/text_summary".
  void add_text(const std::string& tag, const std::string& text_string, std::int64_t global_step = 0,
                std::optional<double> walltime = std::nullopt);
  // An image stored as PNG. dataformats: "CHW" (default), "HWC" or "HW"; C is 1, 3 or 4
  // (one channel is stored as gray RGB, as PyTorch). Throws ShapeError for other shapes.
  void add_image(const std::string& tag, const Tensor& img_tensor, std::int64_t global_step = 0,
                 std::optional<double> walltime = std::nullopt, const std::string& dataformats = "CHW");

  void flush();  // writes all pending events of every event file to disk
  void close();  // flushes and closes every event file

 private:
  tensorboard::EventFileWriter& file_writer();
  void add_summary(tensorboard::EventFileWriter& writer, const std::string& summary, std::int64_t global_step,
                   std::optional<double> walltime);

  std::string log_dir_;
  SummaryWriterOptions options_;
  std::unique_ptr<tensorboard::EventFileWriter> writer_;
  std::map<std::string, std::unique_ptr<tensorboard::EventFileWriter>> all_writers_;  // add_scalars' writers
};

}  // namespace tapeflow
