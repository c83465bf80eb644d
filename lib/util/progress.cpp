// ProgressBar: in-place redraws on a terminal, periodic plain lines elsewhere.
#include "tapeflow/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace tapeflow {
namespace {

bool is_terminal(std::ostream* s) {
  if (s == &std::cerr || s == &std::clog) return ::isatty(STDERR_FILENO) != 0;
  if (s == &std::cout) return ::isatty(STDOUT_FILENO) != 0;
  return false;
}

// A metric value short but precise enough to watch: 0.5123, 12.35, 1.2e-05.
std::string format_value(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (v == 0 || (a >= 1e-3 && a < 1e5))
    std::snprintf(buf, sizeof buf, "%.4g", v);
  else
    std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// The bar itself, `cells` wide: Unicode eighth blocks on terminals, '#' in logs.
std::string make_bar(double fraction, int cells, bool unicode) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  std::string bar;
  const int eighths = static_cast<int>(fraction * cells * 8);
  const int full = eighths / 8;
  static const char* kPartial[8] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  for (int i = 0; i < full; ++i) bar += unicode ? "█" : "#";
  int used = full;
  if (full < cells && unicode && eighths % 8) {
    bar += kPartial[eighths % 8];
    ++used;
  }
  bar.append(static_cast<std::size_t>(cells - used), ' ');
  return bar;
}

}  // namespace

std::string ProgressBar::format_duration(double seconds) {
  const auto s = static_cast<std::int64_t>(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

std::string ProgressBar::format(const std::string& description, std::int64_t count, std::int64_t total,
                                double elapsed_seconds, const std::string& unit,
                                const std::vector<ProgressMetric>& metrics, int width, bool unicode_bar) {
  const double rate = elapsed_seconds > 0 ? static_cast<double>(count) / elapsed_seconds : 0.0;
  std::ostringstream right;
  right << " " << count;
  if (total > 0) right << "/" << total;
  right << " [" << format_duration(elapsed_seconds);
  if (total > 0) {
    const double remaining = rate > 0 ? static_cast<double>(total - count) / rate : 0.0;
    right << "<" << (rate > 0 || count >= total ? format_duration(remaining) : "?");
  }
  char rate_text[48];
  std::snprintf(rate_text, sizeof rate_text, ", %.1f %s/s", rate, unit.c_str());
  right << rate_text;
  for (const auto& [name, value] : metrics) right << ", " << name << "=" << format_value(value);
  right << "]";

  std::string left = description.empty() ? "" : description + " ";
  if (total <= 0) return left + right.str().substr(1);
  char percent[8];
  std::snprintf(percent, sizeof percent, "%3d%%",
                static_cast<int>(100.0 * static_cast<double>(std::min(count, total)) / static_cast<double>(total)));
  left += percent;
  const int fixed = static_cast<int>(left.size() + right.str().size()) + 2;
  const int cells = std::clamp(width - fixed, 10, 40);
  return left + "|" + make_bar(static_cast<double>(count) / static_cast<double>(total), cells, unicode_bar) + "|" +
         right.str();
}

ProgressBar::ProgressBar(std::int64_t total, ProgressOptions options)
    : total_(std::max<std::int64_t>(total, 0)),
      options_(std::move(options)),
      out_(options_.stream ? options_.stream : &std::cerr),
      interactive_(options_.interactive.value_or(is_terminal(out_))),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  if (interactive_) draw(false);
}

ProgressBar::~ProgressBar() { close(); }

double ProgressBar::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::set_metrics(const std::vector<ProgressMetric>& metrics) { metrics_ = metrics; }

void ProgressBar::set_description(std::string description) { options_.description = std::move(description); }

void ProgressBar::update(std::int64_t n, const std::vector<ProgressMetric>& metrics) {
  if (closed_) return;
  count_ += n;
  if (!metrics.empty()) metrics_ = metrics;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  const double interval = interactive_ ? options_.refresh_seconds : options_.log_interval_seconds;
  if (since >= interval && !(total_ > 0 && count_ >= total_)) draw(false);
}

void ProgressBar::draw(bool final_line) {
  last_draw_ = std::chrono::steady_clock::now();
  const std::string line =
      format(options_.description, count_, total_, elapsed(), options_.unit, metrics_, options_.width, interactive_);
  if (interactive_) {
    // \r and clear-to-end-of-line: the bar shrinks cleanly when metrics get shorter.
    *out_ << "\r" << line << "\x1b[K";
    if (final_line) *out_ << (options_.leave ? "\n" : "\r\x1b[K");
  } else {
    *out_ << line << "\n";
  }
  out_->flush();
}

void ProgressBar::close() {
  if (closed_) return;
  draw(true);
  closed_ = true;
}

}  // namespace tapeflow
