// LR schedulers against PyTorch 1.13: every configuration of make_scheduler_reference.py is
// replayed step by step (lr and momentum of both groups, to 1e-12), and resumed from a state
// dict at several points (a fresh optimizer and scheduler, loaded, must continue identically).
#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include "scheduler_test_util.hpp"

using namespace tapeflow;
using namespace scheduler_test;
using optim::LRScheduler;

namespace {

// A schedule under test: its schedulers (the wrapped ones first, the one to step last, kept
// alive here because composites hold references), or a ReduceLROnPlateau.
struct Schedule {
  std::vector<std::unique_ptr<LRScheduler>> parts;
  std::unique_ptr<optim::ReduceLROnPlateau> plateau;

  template <typename S, typename... Args>
  S& add(Args&&... args) {
    parts.push_back(std::make_unique<S>(std::forward<Args>(args)...));
    return static_cast<S&>(*parts.back());
  }
  void step(double metric) {
    if (plateau)
      plateau->step(metric);
    else
      parts.back()->step();
  }
  std::vector<double> last_lr() const { return plateau ? plateau->get_last_lr() : parts.back()->get_last_lr(); }
  std::int64_t last_epoch() const { return plateau ? plateau->last_epoch() : parts.back()->last_epoch(); }
  StateDict state_dict() const { return plateau ? plateau->state_dict() : parts.back()->state_dict(); }
  void load_state_dict(const StateDict& s) { plateau ? plateau->load_state_dict(s) : parts.back()->load_state_dict(s); }
};

using Maker = std::function<void(optim::Optimizer&, Schedule&)>;

// The configurations of make_scheduler_reference.py (keep in sync).
const std::map<std::string, Maker>& configs() {
  using namespace optim;
  static const std::map<std::string, Maker> all = {
      {"step_lr", [](Optimizer& o, Schedule& s) { s.add<StepLR>(o, StepLROptions{.step_size = 7, .gamma = 0.5}); }},
      {"multistep_lr",
       [](Optimizer& o, Schedule& s) { s.add<MultiStepLR>(o, MultiStepLROptions{.milestones = {3, 10, 25}, .gamma = 0.3}); }},
      {"exponential_lr", [](Optimizer& o, Schedule& s) { s.add<ExponentialLR>(o, ExponentialLROptions{.gamma = 0.93}); }},
      {"constant_lr",
       [](Optimizer& o, Schedule& s) { s.add<ConstantLR>(o, ConstantLROptions{.factor = 0.25, .total_iters = 6}); }},
      {"linear_lr_warmup",
       [](Optimizer& o, Schedule& s) {
         s.add<LinearLR>(o, LinearLROptions{.start_factor = 0.1, .end_factor = 1.0, .total_iters = 8});
       }},
      {"linear_lr_decay",
       [](Optimizer& o, Schedule& s) {
         s.add<LinearLR>(o, LinearLROptions{.start_factor = 1.0, .end_factor = 0.2, .total_iters = 30});
       }},
      {"polynomial_lr",
       [](Optimizer& o, Schedule& s) { s.add<PolynomialLR>(o, PolynomialLROptions{.total_iters = 20, .power = 2.0}); }},
      {"cosine_lr",
       [](Optimizer& o, Schedule& s) {
         s.add<CosineAnnealingLR>(o, CosineAnnealingLROptions{.T_max = 12, .eta_min = 0.001});
       }},
      {"cosine_lr_eta0", [](Optimizer& o, Schedule& s) { s.add<CosineAnnealingLR>(o, CosineAnnealingLROptions{.T_max = 40}); }},
      {"onecycle_cos",
       [](Optimizer& o, Schedule& s) { s.add<OneCycleLR>(o, OneCycleLROptions{.max_lr = {0.5, 0.2}, .total_steps = 40}); }},
      {"onecycle_linear_three_phase",
       [](Optimizer& o, Schedule& s) {
         s.add<OneCycleLR>(o, OneCycleLROptions{.max_lr = 0.4,
                                                .epochs = 4,
                                                .steps_per_epoch = 10,
                                                .pct_start = 0.25,
                                                .anneal_strategy = AnnealStrategy::linear,
                                                .base_momentum = {0.8, 0.7},
                                                .max_momentum = {0.9, 0.95},
                                                .div_factor = 10.0,
                                                .final_div_factor = 100.0,
                                                .three_phase = true});
       }},
      {"onecycle_no_momentum",
       [](Optimizer& o, Schedule& s) {
         s.add<OneCycleLR>(o, OneCycleLROptions{
                                  .max_lr = 0.3, .total_steps = 40, .pct_start = 0.4, .cycle_momentum = false});
       }},
      {"plateau_min_rel",
       [](Optimizer& o, Schedule& s) {
         s.plateau = std::make_unique<ReduceLROnPlateau>(o, ReduceLROnPlateauOptions{.mode = PlateauMode::min,
                                                                                      .factor = 0.5,
                                                                                      .patience = 2,
                                                                                      .threshold = 0.01,
                                                                                      .threshold_mode = ThresholdMode::rel,
                                                                                      .cooldown = 1,
                                                                                      .min_lr = {0.01, 0.001}});
       }},
      {"plateau_max_abs",
       [](Optimizer& o, Schedule& s) {
         s.plateau = std::make_unique<ReduceLROnPlateau>(o, ReduceLROnPlateauOptions{.mode = PlateauMode::max,
                                                                                      .factor = 0.3,
                                                                                      .patience = 1,
                                                                                      .threshold = 0.05,
                                                                                      .threshold_mode = ThresholdMode::abs,
                                                                                      .cooldown = 2,
                                                                                      .min_lr = 0.002,
                                                                                      .eps = 1e-3});
       }},
      {"chained_linear_exponential",
       [](Optimizer& o, Schedule& s) {
         auto& warmup = s.add<LinearLR>(o, LinearLROptions{.start_factor = 0.2, .total_iters = 5});
         auto& decay = s.add<ExponentialLR>(o, ExponentialLROptions{.gamma = 0.9});
         s.add<ChainedScheduler>(SchedulerList{warmup, decay});
       }},
      {"chained_cosine_step",
       [](Optimizer& o, Schedule& s) {
         auto& cosine = s.add<CosineAnnealingLR>(o, CosineAnnealingLROptions{.T_max = 10, .eta_min = 0.01});
         auto& step = s.add<StepLR>(o, StepLROptions{.step_size = 5, .gamma = 0.5});
         s.add<ChainedScheduler>(SchedulerList{cosine, step});
       }},
      {"sequential_linear_cosine",
       [](Optimizer& o, Schedule& s) {
         auto& warmup = s.add<LinearLR>(o, LinearLROptions{.start_factor = 0.1, .total_iters = 5});
         auto& cosine = s.add<CosineAnnealingLR>(o, CosineAnnealingLROptions{.T_max = 30, .eta_min = 1e-4});
         s.add<SequentialLR>(o, SchedulerList{warmup, cosine}, std::vector<std::int64_t>{5});
       }},
      {"sequential_three",
       [](Optimizer& o, Schedule& s) {
         auto& constant = s.add<ConstantLR>(o, ConstantLROptions{.factor = 0.5, .total_iters = 4});
         auto& exponential = s.add<ExponentialLR>(o, ExponentialLROptions{.gamma = 0.9});
         auto& step = s.add<StepLR>(o, StepLROptions{.step_size = 4, .gamma = 0.5});
         s.add<SequentialLR>(o, SchedulerList{constant, exponential, step}, std::vector<std::int64_t>{6, 20});
       }},
      {"chained_sequential_exponential",
       [](Optimizer& o, Schedule& s) {
         auto& warmup = s.add<LinearLR>(o, LinearLROptions{.start_factor = 0.25, .total_iters = 4});
         auto& cosine = s.add<CosineAnnealingLR>(o, CosineAnnealingLROptions{.T_max = 20, .eta_min = 0.005});
         auto& sequential = s.add<SequentialLR>(o, SchedulerList{warmup, cosine}, std::vector<std::int64_t>{4});
         auto& decay = s.add<ExponentialLR>(o, ExponentialLROptions{.gamma = 0.97});
         s.add<ChainedScheduler>(SchedulerList{sequential, decay});
       }},
  };
  return all;
}

// Compares the optimizer (and the scheduler's get_last_lr) with a reference row.
void check_row(const std::string& name, const optim::Optimizer& opt, const Schedule& s, const Row& row) {
  INFO(name << " after " << row.step << " steps");
  const std::vector<double> last = s.last_lr();
  REQUIRE(last.size() == row.lrs.size());
  for (std::size_t g = 0; g < row.lrs.size(); ++g) {
    INFO("group " << g << ": lr " << opt.lr(g) << " vs torch " << row.lrs[g] << ", momentum "
                  << *opt.momentum(g) << " vs torch " << row.momentums[g]);
    CHECK(close(opt.lr(g), row.lrs[g]));
    CHECK(last[g] == opt.lr(g));
    CHECK(close(*opt.momentum(g), row.momentums[g]));
  }
}

}  // namespace

TEST_CASE("every scheduler configuration follows PyTorch 1.13 step by step", "[lr_scheduler]") {
  for (const auto& [name, make] : configs()) {
    const std::vector<Row> ref = read_reference(name);
    TestOptimizer opt(reference_groups());
    Schedule s;
    make(opt, s);
    CHECK(s.last_epoch() == 0);
    check_row(name, opt, s, ref[0]);
    for (std::size_t i = 1; i < ref.size(); ++i) {
      s.step(ref[i].metric);
      CHECK(s.last_epoch() == static_cast<std::int64_t>(i));
      check_row(name, opt, s, ref[i]);
    }
  }
}

TEST_CASE("a scheduler loaded from a state dict mid-run continues exactly", "[lr_scheduler][state_dict]") {
  for (const auto& [name, make] : configs()) {
    const std::vector<Row> ref = read_reference(name);
    for (std::size_t split : {0, 4, 5, 17, 33, 40}) {
      INFO(name << ", resumed after " << split << " steps");
      TestOptimizer opt(reference_groups());
      Schedule s;
      make(opt, s);
      for (std::size_t i = 1; i <= split; ++i) s.step(ref[i].metric);
      const StateDict opt_state = opt.state_dict();
      const StateDict sched_state = s.state_dict();
      for (const auto& item : sched_state) {
        INFO(item.key());
        CHECK(item.value().dim() == 0);
      }

      // A fresh run, built the same way, then loaded (optimizer first: it holds the lrs).
      TestOptimizer resumed_opt(reference_groups());
      Schedule resumed;
      make(resumed_opt, resumed);
      resumed_opt.load_state_dict(opt_state);
      resumed.load_state_dict(sched_state);
      CHECK(resumed.last_epoch() == s.last_epoch());
      CHECK(resumed.last_lr() == s.last_lr());
      for (std::size_t i = split + 1; i < ref.size(); ++i) {
        s.step(ref[i].metric);
        resumed.step(ref[i].metric);
        check_row(name, resumed_opt, resumed, ref[i]);
        for (std::size_t g = 0; g < 2; ++g) {
          CHECK(resumed_opt.lr(g) == opt.lr(g));  // bit for bit the uninterrupted run
          CHECK(*resumed_opt.momentum(g) == *opt.momentum(g));
        }
      }
    }
  }
}

TEST_CASE("a scheduler state dict survives a round trip through .npy files", "[lr_scheduler][state_dict]") {
  const auto& make = configs().at("chained_sequential_exponential");
  const std::vector<Row> ref = read_reference("chained_sequential_exponential");
  TestOptimizer opt(reference_groups());
  Schedule s;
  make(opt, s);
  for (std::size_t i = 1; i <= 11; ++i) s.step(ref[i].metric);
  const StateDict saved = s.state_dict();
  CHECK(saved.contains("_schedulers.0._schedulers.1.T_max"));  // nested under the composites

  const auto dir = std::filesystem::temp_directory_path() / "tapeflow_test_lr_scheduler_npy";
  std::filesystem::create_directories(dir);
  StateDict loaded;
  for (const auto& item : saved) {
    const std::string path = (dir / (item.key() + ".npy")).string();
    save_npy(path, item.value());
    loaded.insert(item.key(), load_npy(path));
  }
  std::filesystem::remove_all(dir);

  TestOptimizer resumed_opt(reference_groups());
  Schedule resumed;
  make(resumed_opt, resumed);
  resumed_opt.load_state_dict(opt.state_dict());
  resumed.load_state_dict(loaded);
  for (std::size_t i = 12; i < ref.size(); ++i) {
    resumed.step(ref[i].metric);
    check_row("chained_sequential_exponential", resumed_opt, resumed, ref[i]);
  }
}

TEST_CASE("schedulers on one optimizer share its initial lr, as PyTorch's param_groups do", "[lr_scheduler]") {
  TestOptimizer opt(one_group(0.2));
  optim::LinearLR warmup(opt, {.start_factor = 0.5, .total_iters = 2});
  CHECK(opt.lr(0) == 0.1);
  CHECK(opt.initial_lr(0) == 0.2);
  optim::ExponentialLR decay(opt, {.gamma = 0.5});  // built after the warm-up changed the lr
  CHECK(decay.base_lrs() == std::vector<double>{0.2});
  CHECK(opt.lr(0) == 0.1);  // ExponentialLR's initial step keeps the lr

  // OneCycleLR sets initial_lr to max_lr / div_factor, as PyTorch overwrites the group's.
  TestOptimizer cyc(one_group(0.2));
  optim::OneCycleLR one_cycle(cyc, {.max_lr = 1.0, .total_steps = 10, .div_factor = 4.0});
  CHECK(cyc.initial_lr(0) == 0.25);
  CHECK(one_cycle.base_lrs() == std::vector<double>{0.25});
  CHECK(cyc.momentum(0) == 0.95);  // max_momentum at the start of the cycle
}
