// Mistakes get typed errors whose messages say what was expected and what came: bad parameter
// lists, bad options, bad gradients, and state dicts that do not fit.
#include "optim_problem.hpp"

using namespace optim_test;
using Catch::Contains;

namespace {

Tensor param(IntArrayRef shape) { return zeros(shape, kFloat64).requires_grad_(); }

}  // namespace

TEST_CASE("parameter lists: empty, undefined, non-leaf, integer, duplicated", "[optim][errors]") {
  CHECK_THROWS_MATCHES(
      optim::Adam(std::vector<Tensor>{}), ValueError,
      Catch::Matchers::Message("[Adam] parameter group 0 is empty (an optimizer needs parameters to update)"));
  CHECK_THROWS_WITH(optim::SGD(std::vector<optim::ParamGroup<optim::SGDOptions>>{}, {.lr = 0.1}),
                    Contains("[SGD] no parameter groups given"));
  CHECK_THROWS_WITH(
      optim::RMSprop(std::vector<optim::ParamGroup<optim::RMSpropOptions>>{{{param({2})}}, {std::vector<Tensor>{}}}),
      Contains("parameter group 1 is empty"));
  CHECK_THROWS_AS(optim::Adagrad({param({2}), Tensor()}), ValueError);
  CHECK_THROWS_WITH(optim::Adagrad({param({2}), Tensor()}), Contains("parameter 1 of group 0 is undefined"));

  const Tensor leaf = param({2, 3});
  const Tensor computed = leaf * 2.0;
  CHECK_THROWS_AS(optim::AdamW({computed}), ValueError);
  CHECK_THROWS_WITH(optim::AdamW({computed}), Contains("parameter 0 of group 0 (shape (2, 3)) is not a leaf tensor") &&
                                                  Contains("'mul'") && Contains("detach()"));

  CHECK_THROWS_AS(optim::Adam({zeros({3}, kInt64)}), DTypeError);
  CHECK_THROWS_WITH(optim::Adam({param({1}), zeros({3}, kInt64)}),
                    Contains("parameter 1 of group 0 has dtype int64; only floating-point tensors can be optimized"));

  const Tensor p = param({4});
  CHECK_THROWS_WITH(optim::SGD({p, param({1}), p}, {.lr = 0.1}),
                    Contains("parameter 2 of group 0 (shape (4)) appears more than once"));
  CHECK_THROWS_WITH((optim::SGD(std::vector<optim::ParamGroup<optim::SGDOptions>>{{{p}}, {{p}}}, {.lr = 0.1})),
                    Contains("parameter 0 of group 1") && Contains("more than once"));
}

TEST_CASE("options are validated at construction, naming the option, group and value", "[optim][errors]") {
  const std::vector<Tensor> ps{param({2})};
  CHECK_THROWS_MATCHES(optim::SGD(ps, {}), ValueError,
                       Catch::Matchers::Message("[SGD] param group 0: lr is required (PyTorch's SGD has no default "
                                                "learning rate), e.g. {.lr = 0.01}"));
  CHECK_THROWS_MATCHES(optim::SGD(ps, {.lr = -0.1}), ValueError,
                       Catch::Matchers::Message("[SGD] param group 0: invalid lr = -0.1 (expected >= 0)"));
  CHECK_THROWS_WITH(optim::SGD(ps, {.lr = 0.1, .momentum = -1}), Contains("invalid momentum = -1 (expected >= 0)"));
  CHECK_THROWS_WITH(optim::SGD(ps, {.lr = 0.1, .weight_decay = -1}), Contains("invalid weight_decay = -1"));
  CHECK_THROWS_WITH(
      optim::SGD(ps, {.lr = 0.1, .nesterov = true}),
      Contains("Nesterov momentum requires a momentum > 0 and zero dampening, got momentum = 0, dampening = 0"));
  CHECK_THROWS_WITH(optim::SGD(ps, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                    Contains("dampening = 0.1"));
  CHECK_NOTHROW(optim::SGD(ps, {.lr = 0.1, .momentum = 0.9, .nesterov = true}));

  CHECK_THROWS_WITH(optim::Adam(ps, {.lr = -1}), Contains("[Adam] param group 0: invalid lr = -1"));
  CHECK_THROWS_WITH(optim::Adam(ps, {.betas = {1.0, 0.999}}), Contains("invalid betas[0] = 1 (expected in [0, 1))"));
  CHECK_THROWS_WITH(optim::Adam(ps, {.betas = {0.9, -0.1}}), Contains("invalid betas[1] = -0.1 (expected in [0, 1))"));
  CHECK_THROWS_WITH(optim::Adam(ps, {.eps = -1e-8}), Contains("invalid eps = -1e-08"));
  CHECK_THROWS_WITH(optim::Adam(ps, {.weight_decay = -0.1}), Contains("invalid weight_decay = -0.1"));
  CHECK_THROWS_WITH(optim::AdamW(ps, {.betas = {0.9, 1.5}}), Contains("[AdamW] param group 0: invalid betas[1] = 1.5"));
  CHECK_THROWS_WITH(optim::AdamW(ps, {.lr = std::nan("")}), Contains("invalid lr = nan"));
  CHECK_THROWS_WITH(optim::RMSprop(ps, {.alpha = -0.5}), Contains("[RMSprop] param group 0: invalid alpha = -0.5"));
  CHECK_THROWS_WITH(optim::RMSprop(ps, {.momentum = -0.5}), Contains("invalid momentum = -0.5"));
  CHECK_THROWS_WITH(optim::RMSprop(ps, {.eps = -1}), Contains("invalid eps = -1"));
  CHECK_THROWS_WITH(optim::Adagrad(ps, {.lr_decay = -1}), Contains("[Adagrad] param group 0: invalid lr_decay = -1"));
  CHECK_THROWS_WITH(optim::Adagrad(ps, {.initial_accumulator_value = -1}),
                    Contains("invalid initial_accumulator_value = -1"));
  CHECK_THROWS_WITH(optim::Adagrad(ps, {.weight_decay = -1}), Contains("invalid weight_decay = -1"));

  // A group's own options are checked too, under the group's index; SGD groups need their lr.
  CHECK_THROWS_WITH((optim::Adam(std::vector<optim::ParamGroup<optim::AdamOptions>>{
                        {{param({1})}}, {{param({1})}, optim::AdamOptions{.lr = -2}}})),
                    Contains("param group 1: invalid lr = -2"));
  CHECK_THROWS_WITH(
      (optim::SGD(std::vector<optim::ParamGroup<optim::SGDOptions>>{{{param({1})}},
                                                                    {{param({1})}, optim::SGDOptions{.momentum = 0.9}}},
                  {.lr = 0.1})),
      Contains("param group 1: lr is required"));
  // Defaults no group uses need not be complete.
  CHECK_NOTHROW(
      optim::SGD(std::vector<optim::ParamGroup<optim::SGDOptions>>{{{param({1})}, optim::SGDOptions{.lr = 1}}}, {}));
}

TEST_CASE("gradients must match their parameters", "[optim][errors]") {
  const Tensor p = param({2, 3});
  optim::Adam opt({p, param({2})});
  CHECK_THROWS_WITH(opt.apply_gradients({ones({2, 3}, kFloat64)}),
                    Contains("[Adam] apply_gradients: 1 gradients for 2 parameters"));
  CHECK_THROWS_AS(opt.apply_gradients({ones({3, 2}, kFloat64), Tensor()}), ShapeError);
  CHECK_THROWS_WITH(opt.apply_gradients({ones({3, 2}, kFloat64), Tensor()}),
                    Contains("gradient 0 has shape (3, 2) but its parameter has shape (2, 3)"));
  CHECK_THROWS_AS(opt.apply_gradients({ones({2, 3}, kFloat32), Tensor()}), DTypeError);
  CHECK_THROWS_WITH(opt.apply_gradients({ones({2, 3}, kFloat32), Tensor()}),
                    Contains("the gradient of parameter 0 has dtype float32; expected the parameter's dtype float64"));
  p.set_grad(ones({2, 3}, kFloat32));
  CHECK_THROWS_AS(opt.step(), DTypeError);
  CHECK(opt.state(0).empty());  // nothing happened

  TinyNet net;
  optim::SGD sgd(net->parameters(), {.lr = 0.1});
  CHECK_THROWS_AS(sgd.minimize([&] { return net->x; }), ShapeError);
  CHECK_THROWS_WITH(sgd.minimize([&] { return net->x; }), Contains("must return a one-element tensor, got (8, 3)"));
}

TEST_CASE("load_state_dict rejects dicts that do not fit, and keeps the optimizer as it was", "[optim][errors]") {
  TinyNet net;
  const Config two_groups{"", "Adam", {{"lr", 0.01}}, OptionValues{{"lr", 0.002}}};
  auto opt = make_optimizer(two_groups, net->parameters());
  backward_step(*opt, net);
  const StateDict good = opt->state_dict();
  // A rejected load leaves the optimizer's state as it was.
  const auto unchanged = [&] { return raw_bytes({opt->state(0)["exp_avg"]}) == raw_bytes({good["state.0.exp_avg"]}); };

  SECTION("another group structure") {
    TinyNet other;
    optim::Adam one_group(other->parameters(), {.lr = 0.01});
    CHECK_THROWS_AS(one_group.load_state_dict(good), ValueError);
    CHECK_THROWS_WITH(one_group.load_state_dict(good), Contains("group 0 has 5 parameters, the state dict 2") &&
                                                           Contains("the state dict has more than 1 parameter groups"));
  }
  SECTION("state shaped for other parameters") {
    StateDict bad("test");
    for (const auto& item : good)
      bad.insert(item.key(), item.key() == "state.2.exp_avg" ? zeros({4, 2}, kFloat64) : item.value());
    CHECK_THROWS_WITH(opt->load_state_dict(bad), Contains("state.2.exp_avg: expected shape (2, 4), got (4, 2)"));
    CHECK(unchanged());
  }
  SECTION("a missing option, a stray key, an out-of-range parameter") {
    StateDict bad("test");
    for (const auto& item : good)
      if (item.key() != "param_groups.1.beta2") bad.insert(item.key(), item.value());
    bad.insert("state.9.exp_avg", zeros({1}));
    bad.insert("momentum", zeros({1}));
    CHECK_THROWS_WITH(opt->load_state_dict(bad),
                      Contains("missing key param_groups.1.beta2") &&
                          Contains("state.9.exp_avg: parameter 9 out of range (5 parameters)") &&
                          Contains("unexpected key momentum"));
    CHECK(unchanged());
  }
  SECTION("an invalid option value") {
    StateDict bad("test");
    for (const auto& item : good)
      bad.insert(item.key(), item.key() == "param_groups.1.lr" ? scalar_tensor(-3.0, kFloat64) : item.value());
    opt->set_lr(0, 0.5);  // group 0 loads fine before group 1 fails: it must be restored too
    CHECK_THROWS_WITH(opt->load_state_dict(bad), Contains("[Adam] param group 1: invalid lr = -3"));
    CHECK(opt->lr(0) == 0.5);
    CHECK(opt->lr(1) == 0.002);
    CHECK(unchanged());
  }
  SECTION("a one-element state for a larger parameter fails at the next step, naming it") {
    StateDict bad("test");
    for (const auto& item : good)
      bad.insert(item.key(), item.key() == "state.0.exp_avg" ? zeros({1}, kFloat64) : item.value());
    opt->load_state_dict(bad);  // one-element values pass the load check (steps are such)
    net->loss().backward();
    CHECK_THROWS_AS(opt->step(), ShapeError);
    CHECK_THROWS_WITH(opt->step(), Contains("[Adam] state 'exp_avg' must have its parameter's shape (4, 3), got (1)"));
  }
}

TEST_CASE("state that no longer fits its parameter, and out-of-range indices", "[optim][errors]") {
  TinyNet net;
  optim::Adam opt(net->parameters());
  backward_step(opt, net);
  // The parameter changed dtype under the optimizer (e.g. Module::to(kFloat32) after steps).
  const Tensor w1 = net->param("W1");
  w1.set_data(w1.detach().to(kFloat32));
  w1.set_grad(ones({4, 3}));
  CHECK_THROWS_AS(opt.step(), DTypeError);
  CHECK_THROWS_WITH(opt.step(),
                    Contains("[Adam] state 'exp_avg' must have its parameter's dtype float32, got float64"));

  CHECK_THROWS_AS(opt.state(5), IndexError);
  CHECK_THROWS_WITH(opt.state(5), Contains("parameter 5 out of range (5 parameters)"));
  CHECK_THROWS_AS(opt.lr(1), IndexError);
  CHECK_THROWS_WITH(opt.set_lr(3, 0.1), Contains("[Adam] parameter group 3 out of range (1 groups)"));
  CHECK_THROWS_AS(opt.params(1), IndexError);
}
