// nn::Module base and containers: registration, dotted names, traversal, modes, to(), state
// dicts (strict and lenient), printing, and the errors users get for mistakes.
#include <catch2/catch.hpp>

#include <sstream>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

// A hand-made layer, so that this test depends on the Module base alone.
struct AffineImpl : nn::Module {
  AffineImpl(std::int64_t in, std::int64_t out, bool bias = true) {
    weight = register_parameter("weight", full({out, in}, 0.5));
    this->bias = register_parameter("bias", bias ? zeros({out}) : Tensor());
    register_buffer("calls", zeros({}, kInt64));
  }
  Tensor forward(const Tensor& x) {
    Tensor y = matmul(x, weight.t());
    return bias.defined() ? y + bias : y;
  }
  void pretty_print(std::ostream& os) const override {
    os << "Affine(" << weight.size(1) << " -> " << weight.size(0) << ")";
  }
  Tensor weight, bias;
};
TAPEFLOW_MODULE(Affine);

struct NetImpl : nn::Module {
  NetImpl()
      : first(register_module("first", Affine(3, 4))),
        body(register_module("body", nn::Sequential(Affine(4, 4), nn::Functional([](const Tensor& x) { return relu(x); }),
                                                    Affine(4, 2, false)))) {}
  Tensor forward(const Tensor& x) { return body(first(x)); }
  Affine first;
  nn::Sequential body;
};
TAPEFLOW_MODULE(Net);

}  // namespace

TEST_CASE("named_parameters uses dotted names in registration order", "[nn][module]") {
  Net net;
  const auto named = net->named_parameters();
  REQUIRE(named.keys() == std::vector<std::string>{"first.weight", "first.bias", "body.0.weight", "body.0.bias",
                                                    "body.2.weight"});
  REQUIRE(net->parameters().size() == 5);
  REQUIRE(net->parameters(/*recurse=*/false).empty());
  REQUIRE(net->named_buffers().keys() == std::vector<std::string>{"first.calls", "body.0.calls", "body.2.calls"});
  REQUIRE(net->parameter_count() == 3 * 4 + 4 + 4 * 4 + 4 + 4 * 2);
  for (const auto& p : net->parameters()) REQUIRE(p.requires_grad());
  REQUIRE(net->named_children().keys() == std::vector<std::string>{"first", "body"});
  REQUIRE(net->named_modules().keys() ==
          std::vector<std::string>{"", "first", "body", "body.0", "body.1", "body.2"});
  REQUIRE(net->modules(/*include_self=*/false).size() == 5);
  // Parameters are the very tensors the layers use: one handle, not copies.
  REQUIRE(named["first.weight"].is_same(net->first->weight));
}

TEST_CASE("forward through holders and Sequential computes the composed function", "[nn][module]") {
  Net net;
  Tensor x = tensor({{1.0f, -2.0f, 3.0f}});
  // first: 0.5 * sum(x) = 1 per output; body.0: 0.5 * 4 * 1 = 2 -> relu 2; body.2: 0.5 * 4 * 2 = 4.
  Tensor y = net(x);
  REQUIRE(y.shape() == Shape{1, 2});
  CHECK(y[0][0].item<float>() == Approx(4.0f));
  CHECK(y[0][1].item<float>() == Approx(4.0f));
  y.sum().backward();
  // d/d(body.2.weight)[j][k] = h_k = 2.
  CHECK(net->body->at<Affine>(2)->weight.grad()[1][3].item<float>() == Approx(2.0f));
  net->zero_grad();
  for (const auto& p : net->parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("zero_grad(false) keeps zeroed gradients", "[nn][module]") {
  Affine a(2, 1);
  a(ones({1, 2})).sum().backward();
  a->zero_grad(/*set_to_none=*/false);
  REQUIRE(a->weight.grad().defined());
  CHECK(a->weight.grad().abs().sum().item<float>() == 0.0f);
}

TEST_CASE("train/eval propagate to every submodule", "[nn][module]") {
  Net net;
  REQUIRE(net->is_training());
  net->eval();
  for (const auto& m : net->modules()) CHECK_FALSE(m->is_training());
  net->train();
  for (const auto& m : net->modules()) CHECK(m->is_training());
}

TEST_CASE("to(dtype) converts floating parameters in place, keeping handles", "[nn][module]") {
  Net net;
  Tensor held = net->first->weight;  // as an optimizer would hold it
  net->to(kFloat64);
  CHECK(held.dtype() == kFloat64);
  CHECK(held.requires_grad());
  CHECK(net->named_buffers()["first.calls"].dtype() == kInt64);  // integer buffers stay
  Tensor y = net(ones({2, 3}, kFloat64));
  CHECK(y.dtype() == kFloat64);
  CHECK_THROWS_AS(net->to(kInt32), DTypeError);
  CHECK_THROWS_AS(net->to(Device::cuda(0)), DeviceError);  // no CUDA backend in this build
}

TEST_CASE("state_dict round-trips into a fresh module", "[nn][module]") {
  Net a, b;
  {
    NoGradGuard g;
    for (Tensor p : a->parameters()) p.copy_(randn(p.shape()));
  }
  const StateDict sd = a->state_dict();
  REQUIRE(sd.keys() == std::vector<std::string>{"first.weight", "first.bias", "first.calls", "body.0.weight",
                                                 "body.0.bias", "body.0.calls", "body.2.weight", "body.2.calls"});
  auto result = b->load_state_dict(sd);
  CHECK(result.missing_keys.empty());
  CHECK(result.unexpected_keys.empty());
  Tensor x = randn({5, 3});
  CHECK(allclose(a(x), b(x)));
  // Loaded by value: b's tensors are not a's.
  CHECK_FALSE(b->first->weight.is_same(a->first->weight));
}

TEST_CASE("strict load_state_dict reports every missing, unexpected and mis-shaped key", "[nn][module]") {
  Net net;
  StateDict sd = net->state_dict();
  sd.erase("first.bias");
  sd.insert("extra.weight", zeros({1}));
  sd.insert_or_assign("body.0.weight", zeros({4, 5}));
  try {
    net->load_state_dict(sd);
    FAIL("expected an error");
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("missing key: first.bias"));
    CHECK_THAT(msg, Catch::Contains("unexpected key: extra.weight"));
    CHECK_THAT(msg, Catch::Contains("body.0.weight: expected shape (4, 4), got (4, 5)"));
  }
  // Lenient mode still rejects wrong shapes, but reports the key problems instead of throwing.
  CHECK_THROWS_AS(net->load_state_dict(sd, /*strict=*/false), ValueError);
  sd.insert_or_assign("body.0.weight", full({4, 4}, 7.0f));
  auto result = net->load_state_dict(sd, /*strict=*/false);
  CHECK(result.missing_keys == std::vector<std::string>{"first.bias"});
  CHECK(result.unexpected_keys == std::vector<std::string>{"extra.weight"});
  CHECK(net->body->at<Affine>(0)->weight[2][1].item<float>() == 7.0f);
}

TEST_CASE("a failed strict load changes nothing", "[nn][module]") {
  Affine a(2, 2);
  StateDict sd = a->state_dict();
  sd.insert_or_assign("weight", full({2, 2}, 3.0f));
  sd.insert("surprise", zeros({1}));
  CHECK_THROWS_AS(a->load_state_dict(sd), ValueError);
  CHECK(a->weight[0][0].item<float>() == 0.5f);
}

TEST_CASE("printing shows the module tree", "[nn][module]") {
  Net net;
  std::ostringstream os;
  os << net;
  CHECK(os.str() ==
        "Net(\n"
        "  (first): Affine(3 -> 4)\n"
        "  (body): Sequential(\n"
        "    (0): Affine(4 -> 4)\n"
        "    (1): Functional\n"
        "    (2): Affine(4 -> 2)\n"
        "  )\n"
        ")");
}

TEST_CASE("registration errors name the problem", "[nn][module]") {
  Affine a(2, 2);
  CHECK_THROWS_WITH(a->register_parameter("weight", zeros({1})), Catch::Contains("already registered"));
  CHECK_THROWS_WITH(a->register_buffer("a.b", zeros({1})), Catch::Contains("contains '.'"));
  CHECK_THROWS_AS(a->register_parameter("ints", zeros({1}, kInt64)), DTypeError);
  CHECK_NOTHROW(a->register_parameter("frozen_ints", zeros({1}, kInt64), /*requires_grad=*/false));
  // A non-leaf value is detached into a leaf parameter.
  Tensor w = ones({2}, TensorOptions().requires_grad(true));
  Tensor& p = a->register_parameter("derived", w * 2);
  CHECK(p.is_leaf());
  CHECK(p.requires_grad());
  nn::ModuleHolder<AffineImpl> empty(nullptr);
  CHECK_THROWS_AS(empty->weight, ValueError);
}

TEST_CASE("ModuleList and ModuleDict register their modules", "[nn][module]") {
  nn::ModuleList list(Affine(2, 3), Affine(3, 1));
  list->push_back(Affine(1, 1));
  REQUIRE(list->size() == 3);
  CHECK(list->named_parameters().keys() ==
        std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"});
  Tensor h = ones({1, 2});
  for (const auto& m : *list) h = m->as<Affine>()->forward(h);
  CHECK(h.item<float>() == Approx(0.75f));  // 1 -> 1.5 -> 0.75
  CHECK_THROWS_AS((*list)[3], IndexError);
  CHECK(list->at<Affine>(0) != nullptr);

  nn::ModuleDict dict;
  dict->insert("encoder", Affine(4, 2));
  dict->insert("decoder", std::make_shared<AffineImpl>(2, 4));
  CHECK(dict->keys() == std::vector<std::string>{"encoder", "decoder"});
  CHECK(dict->contains("decoder"));
  CHECK(dict->at<Affine>("decoder")->weight.shape() == Shape{4, 2});
  CHECK_THROWS_WITH((*dict)["nope"], Catch::Contains("no module named 'nope'"));
  CHECK_THROWS_AS(dict->insert("encoder", Affine(1, 1)), ValueError);
}

TEST_CASE("apply visits children before parents", "[nn][module]") {
  Net net;
  std::vector<std::string> seen;
  net->apply([&](nn::Module& m) { seen.push_back(m.name()); });
  CHECK(seen == std::vector<std::string>{"Affine", "Affine", "Functional", "Affine", "Sequential", "Net"});
}
