#pragma once
// The comparison table every benchmark prints: tapeflow in the first column, each peer in its
// own column, then one ratio column per peer. A ratio above 1 means tapeflow is faster (for
// times: peer / tapeflow; for rates: tapeflow / peer). A peer that is not installed shows as
// "missing", one without the operation as "n/a", never as a silently empty cell.
#include <cstdio>
#include <string>
#include <vector>

#include "tapeflow/bench.hpp"

namespace benchmarks {

enum class Measure { Time, Rate };  // Time: seconds per call (smaller wins); Rate: GB/s, GFLOP/s

struct Cell {
  double value = 0;   // seconds (Time) or the rate (Rate); 0 with text set: no figure
  std::string text{};  // "missing", "n/a", "error": why there is no figure
  static Cell of(double v) { return {v, {}}; }
  static Cell none(std::string why) { return {0, std::move(why)}; }
  bool has_value() const { return text.empty() && value > 0; }
};

class Table {
 public:
  Table(std::string title, Measure measure, std::string unit, std::vector<std::string> columns)
      : title_(std::move(title)), measure_(measure), unit_(std::move(unit)), columns_(std::move(columns)) {}

  void add(std::string label, std::vector<Cell> cells, std::string note = {}) {
    rows_.push_back({std::move(label), std::move(cells), std::move(note)});
  }

  void print() const {
    std::printf("\n== %s ==\n%-46s", title_.c_str(), "benchmark");
    for (const auto& c : columns_) std::printf(" %12s", c.c_str());
    for (std::size_t i = 1; i < columns_.size(); ++i) std::printf(" %9s", ("vs " + short_name(columns_[i])).c_str());
    std::printf("\n");
    for (const auto& r : rows_) {
      std::printf("%-46s", r.label.c_str());
      for (const auto& c : r.cells) std::printf(" %12s", format(c).c_str());
      for (std::size_t i = 1; i < r.cells.size(); ++i) std::printf(" %9s", ratio(r.cells[0], r.cells[i]).c_str());
      if (!r.note.empty()) std::printf("  %s", r.note.c_str());
      std::printf("\n");
    }
    std::fflush(stdout);
  }

 private:
  struct Row {
    std::string label;
    std::vector<Cell> cells;
    std::string note;
  };

  static std::string short_name(const std::string& column) {
    return column == "TensorFlow" ? "TF" : column == "LibTorch" ? "LT" : column == "PyTorch" ? "PT" : column;
  }

  std::string format(const Cell& c) const {
    if (!c.has_value()) return c.text.empty() ? "-" : c.text;
    if (measure_ == Measure::Time) return tapeflow::bench::format_seconds(c.value);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.3g %s", c.value, unit_.c_str());
    return buf;
  }

  std::string ratio(const Cell& ours, const Cell& peer) const {
    if (!ours.has_value() || !peer.has_value()) return "-";
    const double r = measure_ == Measure::Time ? peer.value / ours.value : ours.value / peer.value;
    char buf[24];
    std::snprintf(buf, sizeof buf, r >= 100 ? "%.0fx" : "%.2fx", r);
    return buf;
  }

  std::string title_;
  Measure measure_;
  std::string unit_;
  std::vector<std::string> columns_;
  std::vector<Row> rows_;
};

}  // namespace benchmarks
