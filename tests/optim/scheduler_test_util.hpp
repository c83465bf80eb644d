#pragma once
// Shared by the LR scheduler tests: a test-local optimizer built only on the Optimizer base
// (the concrete optimizers live elsewhere), and the reader of the PyTorch reference schedules
// written by tests/optim/make_scheduler_reference.py.
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tapeflow/tapeflow.hpp"

namespace scheduler_test {

using namespace tapeflow;

struct TestOptions {
  double lr = 0.1;
  double momentum = 0.0;
  template <typename F>
  void fields(F&& f) {
    f("lr", lr);
    f("momentum", momentum);
  }
};

// Holds lr and momentum per group; step() changes nothing (schedulers only need the options).
class TestOptimizer final : public optim::OptimizerWithOptions<TestOptions> {
 public:
  explicit TestOptimizer(std::vector<optim::ParamGroup<TestOptions>> groups)
      : OptimizerWithOptions("TestOptimizer", std::move(groups), TestOptions{}) {}
  void step() override {}
  std::optional<double> momentum(std::size_t group) const override { return options(group).momentum; }
  void set_momentum(std::size_t group, double value) override { options(group).momentum = value; }
};

// Like TestOptimizer but without a momentum option (as Adagrad): OneCycleLR cannot cycle it.
class NoMomentumOptimizer final : public optim::OptimizerWithOptions<TestOptions> {
 public:
  explicit NoMomentumOptimizer(std::vector<optim::ParamGroup<TestOptions>> groups)
      : OptimizerWithOptions("NoMomentumOptimizer", std::move(groups), TestOptions{}) {}
  void step() override {}
};

// The optimizer of the reference script: group 0 lr 0.1 momentum 0.9, group 1 lr 0.05 momentum 0.8.
inline std::vector<optim::ParamGroup<TestOptions>> reference_groups() {
  return {{{zeros({2}).requires_grad_(true)}, TestOptions{0.1, 0.9}},
          {{zeros({3}).requires_grad_(true)}, TestOptions{0.05, 0.8}}};
}

inline std::vector<optim::ParamGroup<TestOptions>> one_group(double lr = 0.1) {
  return {{{zeros({2}).requires_grad_(true)}, TestOptions{lr, 0.9}}};
}

// One row of a reference file: the state after `step` steps.
struct Row {
  int step = 0;
  double metric = 0;  // NaN unless fed to ReduceLROnPlateau
  std::vector<double> lrs, momentums;
};

inline std::string data_path(const std::string& name) {
  return std::string(TAPEFLOW_TESTS_DIR) + "/optim/data/" + name + ".txt";
}

inline std::vector<Row> read_reference(const std::string& name) {
  std::ifstream in(data_path(name));
  REQUIRE(in.good());
  std::string word;
  std::size_t groups = 0;
  in >> word >> groups;
  REQUIRE(word == "groups");
  std::vector<Row> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    Row row;
    std::string metric;
    fields >> row.step >> metric;
    row.metric = metric == "nan" ? std::nan("") : std::stod(metric);
    row.lrs.resize(groups);
    row.momentums.resize(groups);
    for (double& v : row.lrs) fields >> v;
    for (double& v : row.momentums) fields >> v;
    REQUIRE(!fields.fail());
    rows.push_back(row);
  }
  REQUIRE(rows.size() == 41);
  return rows;
}

// |a - b| <= 1e-12 relative to max(1, |b|).
inline bool close(double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b)); }

}  // namespace scheduler_test
