// Checkpoints: a model and its optimizer saved mid-training and loaded into fresh objects
// continue bit-identically; plain named tensors round-trip; files are tagged with what they hold.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using namespace tapeflow_test;
namespace F = tapeflow::nn::functional;

namespace {

struct NetImpl : nn::Module {
  NetImpl()
      : fc1(register_module("fc1", nn::Linear(4, 5))),
        bn(register_module("bn", nn::BatchNorm1d(5))),
        fc2(register_module("fc2", nn::Linear(5, 2))) {}
  Tensor forward(const Tensor& x) { return fc2(relu(bn(fc1(x)))); }
  nn::Linear fc1;
  nn::BatchNorm1d bn;
  nn::Linear fc2;
};
TAPEFLOW_MODULE(Net);

std::vector<char> bytes_of(const StateDict& d) {
  std::vector<char> out;
  for (const auto& item : d) {
    const Tensor c = item.value().detach().contiguous();
    const char* p = static_cast<const char*>(c.data_ptr());
    out.insert(out.end(), p, p + c.nbytes());
  }
  return out;
}

void train_steps(Net& net, optim::Optimizer& opt, int steps) {
  for (int i = 0; i < steps; ++i) {
    const Tensor x = randn({8, 4});
    const Tensor y = randn({8, 2});
    opt.zero_grad();
    F::mse_loss(net(x), y).backward();
    opt.step();
  }
}

}  // namespace

TEST_CASE("a model and optimizer restored from checkpoint files continue bit-identically") {
  TempDir tmp;
  manual_seed(1);
  Net reference;
  optim::Adam reference_opt(reference->parameters(), {.lr = 0.01});
  train_steps(reference, reference_opt, 5);
  save(tmp / "model.safetensors", reference);  // through the holder
  save(tmp / "optim.safetensors", reference_opt);
  manual_seed(2);
  train_steps(reference, reference_opt, 5);

  manual_seed(3);
  Net restored;  // different initial values
  optim::Adam restored_opt(restored->parameters(), {.lr = 0.01});
  REQUIRE(bytes_of(restored->state_dict()) != bytes_of(reference->state_dict()));
  const nn::LoadStateDictResult result = load(tmp / "model.safetensors", restored);
  REQUIRE(result.missing_keys.empty());
  REQUIRE(result.unexpected_keys.empty());
  load(tmp / "optim.safetensors", restored_opt);
  manual_seed(2);
  train_steps(restored, restored_opt, 5);
  REQUIRE(bytes_of(restored->state_dict()) == bytes_of(reference->state_dict()));
  REQUIRE(bytes_of(restored_opt.state_dict()) == bytes_of(reference_opt.state_dict()));
}

TEST_CASE("module loading: strict and non-strict, and the file's content tag") {
  TempDir tmp;
  Net net;
  StateDict partial;
  partial.insert("fc1.weight", full({5, 4}, 0.5));
  partial.insert("extra", zeros({1}));
  save(tmp / "partial.safetensors", partial);
  REQUIRE_THROWS(load(tmp / "partial.safetensors", *net));
  const nn::LoadStateDictResult r = load(tmp / "partial.safetensors", *net, /*strict=*/false);
  REQUIRE(r.unexpected_keys == std::vector<std::string>{"extra"});
  REQUIRE_FALSE(r.missing_keys.empty());
  const Tensor w = net->fc1->weight.contiguous();
  for (std::int64_t i = 0; i < w.numel(); ++i) REQUIRE(w.data_ptr<float>()[i] == 0.5f);

  optim::SGD opt(net->parameters(), {.lr = 0.1});
  save(tmp / "opt.safetensors", opt);
  save(tmp / "net.safetensors", *net);
  REQUIRE_THROWS_WITH(load(tmp / "opt.safetensors", *net), Catch::Contains("holds a checkpoint of kind 'optimizer', not 'module'"));
  REQUIRE_THROWS_AS(load(tmp / "net.safetensors", opt), IOError);
  // A plain load reads any safetensors file.
  REQUIRE(load(tmp / "net.safetensors").keys() == net->state_dict().keys());
  std::map<std::string, std::string> meta;
  load_safetensors(tmp / "net.safetensors", &meta);
  REQUIRE(meta == std::map<std::string, std::string>{{"tapeflow.content", "module"}});
}

TEST_CASE("plain named tensors round-trip through save and load") {
  TempDir tmp;
  StateDict d;
  d.insert("b", tensor(std::vector<std::int64_t>{3, -4}, {2}));
  d.insert("a", full({2, 2}, 1.25, kFloat64));
  save(tmp / "d.safetensors", d);
  const StateDict back = load(tmp / "d.safetensors");
  REQUIRE(back.keys() == std::vector<std::string>{"b", "a"});
  REQUIRE(bytes_of(back) == bytes_of(d));
  REQUIRE(back["b"].dtype() == kInt64);
  REQUIRE_THROWS_AS(load(tmp / "missing.safetensors"), IOError);
}
