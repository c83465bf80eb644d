// ProgressBar: the status line's format, and plain-line logging when not on a terminal.
#include <catch2/catch.hpp>

#include <sstream>
#include <vector>

#include "tapeflow/progress.hpp"

using tapeflow::IndexRange;
using tapeflow::ProgressBar;
using tapeflow::ProgressOptions;

namespace {
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) out.push_back(line);
  return out;
}
}  // namespace

TEST_CASE("status line: percent, bar, count, times, rate and metrics", "[progress]") {
  const std::string line = ProgressBar::format("epoch 1", 212, 469, 1.0, "batch", {{"loss", 0.512}}, 100, false);
  // 212 of 469 is 45.2%; rate 212/s; 257 left -> 1.2 s.
  CHECK(line.rfind("epoch 1  45%|", 0) == 0);
  CHECK_THAT(line, Catch::EndsWith("| 212/469 [00:01<00:01, 212.0 batch/s, loss=0.512]"));
  CHECK(line.size() == 100);  // the bar takes what the text leaves of the width
  // 36 cells wide; 45.2% of 36 = 16.3 -> 16 full cells.
  CHECK(std::count(line.begin(), line.end(), '#') == 16);
}

TEST_CASE("status line without a known total has no bar or ETA", "[progress]") {
  CHECK(ProgressBar::format("loading", 5, 0, 2.0, "it", {}, 80, false) == "loading 5 [00:02, 2.5 it/s]");
  CHECK(ProgressBar::format("", 0, 10, 0.0, "it", {{"acc", 0.0}}, 80, false)
            .find("0/10 [00:00<?, 0.0 it/s, acc=0]") != std::string::npos);
}

TEST_CASE("durations", "[progress]") {
  CHECK(ProgressBar::format_duration(65.9) == "01:05");
  CHECK(ProgressBar::format_duration(3725) == "1:02:05");
  CHECK(ProgressBar::format_duration(-3) == "00:00");
}

TEST_CASE("metric values keep about four significant digits", "[progress]") {
  const std::string line = ProgressBar::format("", 1, 0, 1.0, "it", {{"a", 1234.5678}, {"b", 1.23456e-5}}, 80, false);
  CHECK_THAT(line, Catch::Contains("a=1235"));
  CHECK_THAT(line, Catch::Contains("b=1.23e-05"));
}

TEST_CASE("not a terminal: plain lines at the log interval, and one at the end", "[progress]") {
  std::ostringstream os;
  {
    ProgressBar bar(4, {.description = "train", .stream = &os, .interactive = false, .log_interval_seconds = 0});
    CHECK_FALSE(bar.interactive());
    for (int i = 0; i < 4; ++i) bar.update(1, {{"loss", 1.0 / (i + 1)}});
  }  // the destructor closes the bar
  const auto lines = lines_of(os.str());
  REQUIRE(lines.size() == 4);  // after steps 1, 2, 3, then the final line (step 4 waits for close)
  CHECK(lines[0].find("train  25%|") == 0);
  CHECK_THAT(lines[3], Catch::Contains("4/4"));
  CHECK_THAT(lines[3], Catch::Contains("loss=0.25"));
  CHECK(os.str().find('\r') == std::string::npos);  // no terminal control in logs
}

TEST_CASE("a long log interval prints only the final line", "[progress]") {
  std::ostringstream os;
  ProgressBar bar(1000, {.stream = &os, .interactive = false, .log_interval_seconds = 3600});
  for (int i = 0; i < 1000; ++i) bar.update();
  bar.close();
  bar.close();  // idempotent
  bar.update();  // ignored after close
  CHECK(lines_of(os.str()).size() == 1);
  CHECK(bar.count() == 1000);
}

TEST_CASE("terminal mode redraws in place and ends with a newline", "[progress]") {
  std::ostringstream os;
  {
    ProgressBar bar(3, {.stream = &os, .interactive = true, .refresh_seconds = 0});
    for (int i = 0; i < 3; ++i) bar.update();
  }
  const std::string s = os.str();
  CHECK(s.front() == '\r');
  CHECK(s.back() == '\n');
  CHECK(std::count(s.begin(), s.end(), '\n') == 1);
  CHECK_THAT(s, Catch::Contains("100%|"));
}

TEST_CASE("progress() wraps ranges and counts iterations", "[progress]") {
  std::ostringstream os;
  std::vector<int> v{1, 2, 3, 4, 5};
  int sum = 0;
  auto wrapped = tapeflow::progress(v, {.stream = &os, .interactive = false, .log_interval_seconds = 3600});
  for (int x : wrapped) sum += x;
  CHECK(sum == 15);
  CHECK(wrapped.bar().count() == 5);
  std::int64_t last = -1;
  for (auto i : tapeflow::progress(IndexRange(7), {.stream = &os, .interactive = false})) last = i;
  CHECK(last == 6);
}
