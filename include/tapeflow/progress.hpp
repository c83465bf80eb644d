#pragma once
// A progress bar for training loops, in the spirit of Python's tqdm:
//
//   ProgressBar bar(steps, {.description = "epoch 1/5", .unit = "batch"});
//   for (...) { ...; bar.update(1, {{"loss", loss}}); }
//   bar.close();   // (the destructor closes it too)
//
//   for (auto& batch : progress(loader, {.description = "train"})) { ... }
//
// On a terminal it redraws one line in place (at most every `refresh_seconds`) with the
// percentage, a bar, count, elapsed time, ETA, rate and live metrics. When the stream is not a
// terminal (a log file, CI) it prints a plain line every `log_interval_seconds` and one at the
// end, so that logs stay readable.
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <iterator>
#include <optional>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

namespace tapeflow {

struct ProgressOptions {
  std::string description{};      // printed before the bar
  std::string unit = "it";        // "batch", "img", ...
  std::ostream* stream = nullptr;  // default: std::cerr
  // Redraw in place (terminal) or print lines; default: whether the stream is a terminal.
  std::optional<bool> interactive = std::nullopt;
  double refresh_seconds = 0.1;       // terminal redraw limit
  double log_interval_seconds = 10.0;  // plain-line interval when not a terminal
  int width = 100;                     // terminal line width
  bool leave = true;                   // keep the final line (terminal) when done
};

// A named live value shown after the bar: {"loss", 0.512}.
using ProgressMetric = std::pair<std::string, double>;

class ProgressBar {
 public:
  // total = 0 means unknown (no bar, no ETA).
  explicit ProgressBar(std::int64_t total = 0, ProgressOptions options = {});
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Advances by n and replaces the shown metrics when some are given.
  void update(std::int64_t n = 1, const std::vector<ProgressMetric>& metrics = {});
  void set_metrics(const std::vector<ProgressMetric>& metrics);
  void set_description(std::string description);
  // Draws the final state (and a newline); later calls do nothing.
  void close();

  std::int64_t count() const { return count_; }
  std::int64_t total() const { return total_; }
  bool interactive() const { return interactive_; }

  // The text of one status line; public so that its format can be tested:
  // "desc  45%|#####     | 212/469 [00:01<00:01, 180.2 batch/s, loss=0.512]" (interactive bars
  // use Unicode blocks instead of '#').
  static std::string format(const std::string& description, std::int64_t count, std::int64_t total,
                            double elapsed_seconds, const std::string& unit,
                            const std::vector<ProgressMetric>& metrics, int width, bool unicode_bar);
  // "mm:ss", or "h:mm:ss" from an hour on.
  static std::string format_duration(double seconds);

 private:
  void draw(bool final_line);
  double elapsed() const;

  std::int64_t total_;
  std::int64_t count_ = 0;
  ProgressOptions options_;
  std::ostream* out_;
  bool interactive_;
  bool closed_ = false;
  std::vector<ProgressMetric> metrics_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Wraps an iterable that has size(): iterating it advances a ProgressBar. Holds a reference
// to an lvalue range, and owns a temporary one.
template <typename Range>
class ProgressRange {
 public:
  ProgressRange(Range&& range, ProgressOptions options)
      : range_(std::forward<Range>(range)), bar_(static_cast<std::int64_t>(std::size(range_)), std::move(options)) {}
  class iterator {
   public:
    using inner = decltype(std::begin(std::declval<std::remove_reference_t<Range>&>()));
    iterator(inner it, ProgressBar* bar) : it_(it), bar_(bar) {}
    decltype(auto) operator*() const { return *it_; }
    iterator& operator++() {
      ++it_;
      bar_->update(1);
      return *this;
    }
    bool operator!=(const iterator& o) const { return it_ != o.it_; }
    bool operator==(const iterator& o) const { return it_ == o.it_; }

   private:
    inner it_;
    ProgressBar* bar_;
  };
  iterator begin() { return iterator(std::begin(range_), &bar_); }
  iterator end() { return iterator(std::end(range_), &bar_); }
  ProgressBar& bar() { return bar_; }

 private:
  Range range_;
  ProgressBar bar_;
};

template <typename Range>
ProgressRange<Range> progress(Range&& range, ProgressOptions options = {}) {
  return ProgressRange<Range>(std::forward<Range>(range), std::move(options));
}

// An integer range [0, n) for `for (auto i : progress(steps))`.
class IndexRange {
 public:
  explicit IndexRange(std::int64_t n) : n_(n) {}
  struct iterator {
    std::int64_t i;
    std::int64_t operator*() const { return i; }
    iterator& operator++() {
      ++i;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i != o.i; }
    bool operator==(const iterator& o) const { return i == o.i; }
  };
  iterator begin() const { return {0}; }
  iterator end() const { return {n_}; }
  std::size_t size() const { return static_cast<std::size_t>(n_); }

 private:
  std::int64_t n_;
};

}  // namespace tapeflow
