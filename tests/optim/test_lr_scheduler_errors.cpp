// LR schedulers: bad options, bad steps and bad state dicts throw ValueError naming the
// scheduler and the value, and a failed load leaves the scheduler unchanged.
#include "scheduler_test_util.hpp"

using namespace tapeflow;
using namespace tapeflow::optim;
using namespace scheduler_test;
using Catch::Matchers::Contains;

namespace {

// Runs f, expecting a ValueError whose message contains every part.
template <typename F>
void expect_value_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL("no exception thrown; expected a ValueError containing '" << parts.front() << "'");
  } catch (const ValueError& e) {
    for (const auto& part : parts) CHECK_THAT(e.what(), Contains(part));
  }
}

bool same_state(const StateDict& a, const StateDict& b) {
  if (a.keys() != b.keys()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].value().item<double>() != b[i].value().item<double>()) return false;
  return true;
}

}  // namespace

TEST_CASE("multiplicative schedulers reject bad options", "[lr_scheduler][errors]") {
  TestOptimizer opt(reference_groups());
  expect_value_error([&] { StepLR s(opt, {}); }, {"[StepLR]", "step_size", "got 0"});
  expect_value_error([&] { StepLR s(opt, {.step_size = 3, .gamma = -0.5}); }, {"[StepLR]", "gamma", "-0.5"});
  expect_value_error([&] { MultiStepLR s(opt, {}); }, {"[MultiStepLR]", "milestones must be given"});
  expect_value_error([&] { MultiStepLR s(opt, {.milestones = {3, 8, 8}}); },
                     {"[MultiStepLR]", "strictly increasing", "8 then 8"});
  expect_value_error([&] { MultiStepLR s(opt, {.milestones = {5, 2}}); }, {"[MultiStepLR]", "5 then 2"});
  expect_value_error([&] { ExponentialLR s(opt, {}); }, {"[ExponentialLR]", "gamma must be given"});
  expect_value_error([&] { ConstantLR s(opt, {.factor = 1.5}); }, {"[ConstantLR]", "factor", "1.5"});
  expect_value_error([&] { ConstantLR s(opt, {.factor = 0.0}); }, {"[ConstantLR]", "(0, 1]", "got 0"});
  expect_value_error([&] { LinearLR s(opt, {.start_factor = 0.0}); }, {"[LinearLR]", "start_factor", "got 0"});
  expect_value_error([&] { LinearLR s(opt, {.end_factor = 1.2}); }, {"[LinearLR]", "end_factor", "1.2"});
  expect_value_error([&] { LinearLR s(opt, {.total_iters = 0}); }, {"[LinearLR]", "total_iters", "got 0"});
  expect_value_error([&] { PolynomialLR s(opt, {.total_iters = -2}); }, {"[PolynomialLR]", "total_iters", "-2"});
  expect_value_error([&] { CosineAnnealingLR s(opt, {}); }, {"[CosineAnnealingLR]", "T_max", "got 0"});
  // A rejected scheduler left the optimizer's lrs alone.
  CHECK(opt.lr(0) == 0.1);
  CHECK(opt.lr(1) == 0.05);
}

TEST_CASE("OneCycleLR rejects bad cycles and stepping past its end", "[lr_scheduler][errors]") {
  TestOptimizer opt(reference_groups());
  expect_value_error([&] { OneCycleLR s(opt, {.max_lr = 0.1, .total_steps = 0}); },
                     {"[OneCycleLR]", "total_steps", "got 0"});
  expect_value_error([&] { OneCycleLR s(opt, {.max_lr = 0.1, .total_steps = -5}); }, {"[OneCycleLR]", "-5"});
  expect_value_error([&] { OneCycleLR s(opt, {.max_lr = 0.1}); }, {"[OneCycleLR]", "total_steps, or epochs and"});
  expect_value_error([&] { OneCycleLR s(opt, {.max_lr = 0.1, .epochs = 3}); }, {"[OneCycleLR]", "steps_per_epoch"});
  expect_value_error([&] { OneCycleLR s(opt, {.max_lr = 0.1, .epochs = 0, .steps_per_epoch = 4}); },
                     {"[OneCycleLR]", "epochs must be a positive integer, got 0"});
  expect_value_error([&] { OneCycleLR s(opt, {.max_lr = 0.1, .total_steps = 10, .pct_start = 1.5}); },
                     {"[OneCycleLR]", "pct_start", "1.5"});
  expect_value_error([&] { OneCycleLR s(opt, {.total_steps = 10}); }, {"[OneCycleLR]", "max_lr must be given"});
  expect_value_error([&] { OneCycleLR s(opt, {.max_lr = {0.1, 0.2, 0.3}, .total_steps = 10}); },
                     {"[OneCycleLR]", "expected 2 values for max_lr", "got 3"});
  expect_value_error([&] { OneCycleLR s(opt, {.max_lr = 0.1, .total_steps = 10, .base_momentum = {0.8, 0.8, 0.8}}); },
                     {"[OneCycleLR]", "base_momentum", "got 3"});
  // pct_start * total_steps == 1 makes the first phase empty (PyTorch divides by zero).
  expect_value_error([&] { OneCycleLR s(opt, {.max_lr = 0.1, .total_steps = 10, .pct_start = 0.1}); },
                     {"[OneCycleLR]", "zero length"});

  NoMomentumOptimizer plain(one_group());
  expect_value_error([&] { OneCycleLR s(plain, {.max_lr = 0.1, .total_steps = 10}); },
                     {"[OneCycleLR]", "momentum", "cycle_momentum = false"});
  OneCycleLR no_cycle(plain, {.max_lr = 0.1, .total_steps = 10, .cycle_momentum = false});
  CHECK(plain.lr(0) == Approx(0.1 / 25));

  // total_steps = 5 allows 5 steps after construction; the 6th throws (PyTorch: "Tried to step 7 times").
  TestOptimizer cyc(reference_groups());
  OneCycleLR s(cyc, {.max_lr = 0.1, .total_steps = 5});
  for (int i = 0; i < 5; ++i) s.step();
  const double lr = cyc.lr(0), momentum = *cyc.momentum(0);
  expect_value_error([&] { s.step(); }, {"[OneCycleLR]", "tried to step 7 times", "total steps is 5"});
  CHECK(s.last_epoch() == 5);  // nothing changed
  CHECK(cyc.lr(0) == lr);
  CHECK(*cyc.momentum(0) == momentum);
  CHECK_THROWS_AS(s.step(), ValueError);
}

TEST_CASE("ReduceLROnPlateau rejects bad options and metrics", "[lr_scheduler][errors]") {
  TestOptimizer opt(reference_groups());
  expect_value_error([&] { ReduceLROnPlateau s(opt, {.factor = 1.0}); }, {"[ReduceLROnPlateau]", "factor must be < 1.0", "got 1"});
  expect_value_error([&] { ReduceLROnPlateau s(opt, {.factor = 2.5}); }, {"[ReduceLROnPlateau]", "2.5"});
  expect_value_error([&] { ReduceLROnPlateau s(opt, {.patience = -1}); }, {"[ReduceLROnPlateau]", "patience", "-1"});
  expect_value_error([&] { ReduceLROnPlateau s(opt, {.min_lr = {0.1, 0.2, 0.3}}); },
                     {"[ReduceLROnPlateau]", "expected 2 values for min_lr", "got 3"});
  ReduceLROnPlateau s(opt, {.patience = 0});
  expect_value_error([&] { s.step(ones({2})); }, {"[ReduceLROnPlateau]", "one-element tensor"});
  s.step(scalar_tensor(2.0));  // a 0-d loss works like a number
  CHECK(s.best() == 2.0);
  s.step(tensor({3.0}));  // worse, patience 0: reduce
  CHECK(opt.lr(0) == Approx(0.01));
}

TEST_CASE("composite schedulers reject mismatched optimizers and milestones", "[lr_scheduler][errors]") {
  TestOptimizer opt(reference_groups());
  TestOptimizer other(reference_groups());
  LinearLR warmup(opt, {});
  ExponentialLR decay(opt, {.gamma = 0.9});
  ExponentialLR elsewhere(other, {.gamma = 0.9});
  expect_value_error([&] { ChainedScheduler c(SchedulerList{}); }, {"[ChainedScheduler]", "at least one"});
  expect_value_error([&] { ChainedScheduler c({warmup, elsewhere}); },
                     {"[ChainedScheduler]", "same optimizer", "scheduler 1 (ExponentialLR)"});
  expect_value_error([&] { SequentialLR s(opt, {warmup, elsewhere}, {5}); }, {"[SequentialLR]", "scheduler 1"});
  expect_value_error([&] { SequentialLR s(other, {elsewhere, warmup}, {5}); }, {"[SequentialLR]", "scheduler 1"});
  expect_value_error([&] { SequentialLR s(opt, {warmup, decay}, {}); },
                     {"[SequentialLR]", "2 schedulers and 0 milestones"});
  expect_value_error([&] { SequentialLR s(opt, {warmup, decay, warmup}, {5, 5}); },
                     {"[SequentialLR]", "strictly increasing", "5 then 5"});
  expect_value_error([&] { SequentialLR s(opt, {warmup, decay}, {0}); }, {"[SequentialLR]", "positive, got 0"});
  ChainedScheduler chain({warmup, decay});
  expect_value_error([&] { SequentialLR s(opt, {warmup, chain}, {3}); }, {"[SequentialLR]", "scheduler 1 is a ChainedScheduler"});
}

TEST_CASE("load_state_dict rejects foreign or broken state dicts and changes nothing", "[lr_scheduler][errors][state_dict]") {
  TestOptimizer opt(reference_groups());
  StepLR step(opt, {.step_size = 3, .gamma = 0.5});
  for (int i = 0; i < 4; ++i) step.step();
  const StateDict good = step.state_dict();
  CHECK(good["step_size"].item<std::int64_t>() == 3);
  CHECK(good["last_epoch"].item<std::int64_t>() == 4);
  CHECK(good["base_lrs.1"].item<double>() == 0.05);

  TestOptimizer fresh_opt(reference_groups());
  StepLR fresh(fresh_opt, {.step_size = 5});
  const StateDict before = fresh.state_dict();

  StateDict missing = good;
  missing.erase("gamma");
  expect_value_error([&] { fresh.load_state_dict(missing); }, {"[StepLR]", "missing key 'gamma'"});

  ExponentialLR exponential(opt, {.gamma = 0.9});
  expect_value_error([&] { exponential.load_state_dict(good); }, {"[ExponentialLR]", "unexpected key", "'step_size'"});

  TestOptimizer single(one_group());
  StepLR one_group_step(single, {.step_size = 2});
  expect_value_error([&] { one_group_step.load_state_dict(good); },
                     {"[StepLR]", "2 parameter groups, the optimizer has 1"});
  expect_value_error([&] { fresh.load_state_dict(one_group_step.state_dict()); },
                     {"[StepLR]", "1 parameter groups, the optimizer has 2"});

  StateDict bad_value = good;
  bad_value.insert_or_assign("step_size", scalar_tensor(std::int64_t{0}, kInt64));
  expect_value_error([&] { fresh.load_state_dict(bad_value); }, {"[StepLR]", "step_size", "got 0"});
  StateDict float_count = good;
  float_count.insert_or_assign("last_epoch", scalar_tensor(4.5, kFloat64));
  expect_value_error([&] { fresh.load_state_dict(float_count); }, {"[StepLR]", "'last_epoch' must hold an integer"});
  StateDict not_scalar = good;
  not_scalar.insert_or_assign("gamma", ones({2}, kFloat64));
  expect_value_error([&] { fresh.load_state_dict(not_scalar); }, {"[StepLR]", "'gamma' must be a one-element tensor"});

  CHECK(same_state(fresh.state_dict(), before));  // every failed load left it as it was
  fresh.load_state_dict(good);
  CHECK(same_state(fresh.state_dict(), good));
  CHECK(fresh.options().step_size == 3);  // options come back too, as in PyTorch

  // The same checks guard ReduceLROnPlateau and composites' nested states.
  ReduceLROnPlateau plateau(opt, {});
  StateDict bad_factor = plateau.state_dict();
  bad_factor.insert_or_assign("factor", scalar_tensor(1.5, kFloat64));
  expect_value_error([&] { plateau.load_state_dict(bad_factor); }, {"[ReduceLROnPlateau]", "factor", "1.5"});
  CHECK(plateau.options().factor == 0.1);
  StateDict bad_mode = plateau.state_dict();
  bad_mode.insert_or_assign("mode", scalar_tensor(std::int64_t{7}, kInt64));
  expect_value_error([&] { plateau.load_state_dict(bad_mode); }, {"[ReduceLROnPlateau]", "'mode' must be in 0..1, got 7"});

  LinearLR warmup(opt, {});
  ChainedScheduler chain({warmup, exponential});
  StateDict chain_state = chain.state_dict();
  chain_state.erase("_schedulers.1.gamma");
  expect_value_error([&] { chain.load_state_dict(chain_state); }, {"[ChainedScheduler]", "missing key '_schedulers.1.gamma'"});
}
