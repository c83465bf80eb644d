// Writes a TensorBoard logdir with known scalars, scalar groups, histograms, text and images,
// for tests/tensorboard/check_events.py to read back with TensorBoard's own event reader.
// Usage: tensorboard_write_events <logdir>. The values come from the formulas below, which
// check_events.py repeats; keep the two in step.
#include <cstdio>
#include <cstdint>
#include <exception>
#include <vector>

#include "tapeflow/creation.hpp"
#include "tapeflow/summary_writer.hpp"

using namespace tapeflow;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <logdir>\n", argv[0]);
    return 2;
  }
  try {
    // A large queue: nothing reaches the file before flush()/close() but the first event.
    SummaryWriter writer(argv[1], {.max_queue = 1000});

    for (std::int64_t step = 0; step < 5; ++step) {
      if (step == 4)
        writer.add_scalar("loss", 1.0 / static_cast<double>(step + 1), step, 1234567890.5);
      else
        writer.add_scalar("loss", 1.0 / static_cast<double>(step + 1), step);
    }
    writer.add_scalar("acc/train", tensor(std::vector<double>{0.75}, {1}), 10);

    for (std::int64_t step = 0; step < 3; ++step) {
      const double s = static_cast<double>(step);
      writer.add_scalars("run/group", {{"a", 0.5 * s}, {"b", -1.25 * s + 3}}, step);
    }

    std::vector<float> values;
    for (int i = 0; i < 100; ++i) values.push_back(static_cast<float>((i * 7) % 23 - 11) * 0.25f);
    values.push_back(1e-3f);
    values.push_back(12345.0f);
    const Tensor hist_values = tensor(values, {static_cast<std::int64_t>(values.size())});
    writer.add_histogram("weights", hist_values, 3);
    writer.add_histogram("uniform", hist_values, 4, std::int64_t{5});

    writer.add_text("notes", "hello **world** \xC3\xBCnicode", 7);

    std::vector<float> chw;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 5; ++x) chw.push_back(static_cast<float>((c * 31 + y * 17 + x * 5) % 256) / 255.0f);
    writer.add_image("img_chw", tensor(chw, {3, 4, 5}), 1);

    std::vector<double> gray;
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 2; ++x) gray.push_back((y * 2 + x) * 0.3 - 0.2);
    writer.add_image("img_gray", tensor(gray, {1, 3, 2}), 2);
    writer.add_image("img_hw", tensor(gray, {3, 2}), 3, std::nullopt, "HW");
    std::vector<double> gray01;  // inside [0, 1], to compare with PyTorch 1.13 too (it does not clip)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 2; ++x) gray01.push_back((y * 2 + x) / 7.0);
    writer.add_image("img_gray01", tensor(gray01, {1, 3, 2}), 5);

    std::vector<std::int32_t> hwc;
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        for (int c = 0; c < 4; ++c) hwc.push_back((y * 40 + x * 70 + c * 9) % 300);
    writer.add_image("img_hwc_int", tensor(hwc, {2, 3, 4}), 4, std::nullopt, "HWC");

    writer.flush();
    writer.close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_events: %s\n", e.what());
    return 1;
  }
  return 0;
}
