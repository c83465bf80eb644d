// Every optimizer/option combination of data/optimizer_configs.txt follows PyTorch 1.13's trajectory: the
// parameters after each of 20 steps match those recorded by make_optim_reference.py, in float64
// (to ~1e-15) and in float32 (to float32 rounding).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "optim_problem.hpp"

using namespace optim_test;

namespace {

// Largest |ours - theirs| / (1 + |theirs|) over each step's parameters.
double trajectory_error(const Config& c, DType dtype, const Tensor& reference) {
  TinyNet net(dtype);
  auto opt = make_optimizer(c, net->parameters());
  const std::int64_t steps = reference.size(0), width = reference.size(1);
  const double* ref = reference.data_ptr<double>();
  double worst = 0;
  for (std::int64_t s = 0; s < steps; ++s) {
    backward_step(*opt, net);
    const std::vector<double> ours = flat_values(net->parameters());
    REQUIRE(static_cast<std::int64_t>(ours.size()) == width);
    for (std::int64_t j = 0; j < width; ++j) {
      const double theirs = ref[s * width + j];
      const double err = std::abs(ours[j] - theirs) / (1 + std::abs(theirs));
      worst = std::isnan(err) ? INFINITY : std::max(worst, err);
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("optimizer trajectories match PyTorch in float64", "[optim][reference]") {
  const std::vector<Config> configs = load_configs();
  REQUIRE(configs.size() >= 25);
  for (const Config& c : configs) {
    const Tensor reference = load_npy(data_path("traj_" + c.name + "_float64.npy"));
    REQUIRE(reference.size(0) == 20);
    INFO(c.name);
    // Observed: <= 1e-15 (rounding differences in matmul and the loss reduction only).
    CHECK(trajectory_error(c, kFloat64, reference) < 1e-13);
  }
}

TEST_CASE("optimizer trajectories match PyTorch in float32", "[optim][reference]") {
  for (const Config& c : load_configs()) {
    const Tensor reference = load_npy(data_path("traj_" + c.name + "_float32.npy")).to(kFloat64);
    INFO(c.name);
    // Observed: <= 4e-7 (float32 rounding in a different order in matmul and reductions).
    CHECK(trajectory_error(c, kFloat32, reference) < 1e-6);
  }
}

TEST_CASE("every optimizer family and flag appears in the reference configurations", "[optim][reference]") {
  std::map<std::string, std::set<std::string>> seen;
  for (const Config& c : load_configs()) {
    for (const auto& [key, value] : c.defaults)
      if (value != 0) seen[c.optimizer].insert(key);
    if (c.group1) seen[c.optimizer].insert("groups");
  }
  const std::map<std::string, std::vector<std::string>> wanted{
      {"SGD", {"momentum", "dampening", "nesterov", "weight_decay", "maximize", "groups"}},
      {"Adam", {"beta1", "beta2", "eps", "amsgrad", "weight_decay", "maximize", "groups"}},
      {"AdamW", {"amsgrad", "weight_decay", "maximize", "groups"}},
      {"RMSprop", {"alpha", "centered", "momentum", "weight_decay", "maximize", "eps", "groups"}},
      {"Adagrad", {"lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize", "groups"}}};
  for (const auto& [optimizer, keys] : wanted)
    for (const auto& key : keys) {
      INFO(optimizer << " " << key);
      CHECK(seen[optimizer].count(key) == 1);
    }
}
