// Every layer against PyTorch 1.13 in float64: the reference state dict is loaded into the
// tapeflow layer (strict, so the key names must be torch.nn's), then each recorded step (train or
// eval mode) must reproduce torch's output, input and parameter gradients of a weighted sum of the
// output, and finally the state after the steps (BatchNorm's running statistics).
// Data: tests/nn/data/layers/<case>/, made by tests/nn/make_layer_reference.py (see its header).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(TAPEFLOW_TESTS_DIR) / "nn" / "data" / "layers";

struct Built {
  std::shared_ptr<nn::Module> module;
  std::function<Tensor(const std::vector<Tensor>&)> forward;
};

template <typename Holder>
Built one(Holder h) {
  return {h.ptr(), [h](const std::vector<Tensor>& in) mutable { return h(in.at(0)); }};
}

Built two(nn::Bilinear h) {
  return {h.ptr(), [h](const std::vector<Tensor>& in) mutable { return h(in.at(0), in.at(1)); }};
}

// The tapeflow twin of each case of make_layer_reference.py, configured the same way.
const std::map<std::string, std::function<Built()>>& builders() {
  static const std::map<std::string, std::function<Built()>> table{
      {"linear", [] { return one(nn::Linear(5, 3)); }},
      {"linear_nobias_3d", [] { return one(nn::Linear(nn::LinearOptions(4, 6).bias(false))); }},
      {"bilinear", [] { return two(nn::Bilinear(3, 4, 5)); }},
      {"bilinear_nobias_batched", [] { return two(nn::Bilinear(nn::BilinearOptions(2, 3, 2).bias(false))); }},
      {"conv1d", [] { return one(nn::Conv1d(3, 4, 3)); }},
      {"conv1d_stride_pad_dil_groups",
       [] { return one(nn::Conv1d(nn::Conv1dOptions(4, 6, 3).stride(2).padding(2).dilation(2).groups(2))); }},
      {"conv1d_unbatched_nobias", [] { return one(nn::Conv1d(nn::Conv1dOptions(2, 3, 2).bias(false))); }},
      {"conv2d", [] { return one(nn::Conv2d(3, 4, 3)); }},
      {"conv2d_stride_pad_rect",
       [] { return one(nn::Conv2d(nn::Conv2dOptions(2, 4, {3, 2}).stride({2, 1}).padding({1, 2}))); }},
      {"conv2d_groups_dilation_nobias",
       [] { return one(nn::Conv2d(nn::Conv2dOptions(4, 6, 3).padding(1).dilation(2).groups(2).bias(false))); }},
      {"conv2d_unbatched", [] { return one(nn::Conv2d(2, 3, 3)); }},
      {"maxpool2d", [] { return one(nn::MaxPool2d(2)); }},
      {"maxpool2d_stride_pad_ceil",
       [] { return one(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true))); }},
      {"maxpool2d_dilation", [] { return one(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(1).dilation(2))); }},
      {"avgpool2d", [] { return one(nn::AvgPool2d(2)); }},
      {"avgpool2d_pad_exclude_ceil",
       [] {
         return one(nn::AvgPool2d(
             nn::AvgPool2dOptions(3).stride(2).padding(1).ceil_mode(true).count_include_pad(false)));
       }},
      {"adaptive_avgpool2d", [] { return one(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({3, 2}))); }},
      {"adaptive_avgpool2d_global_unbatched", [] { return one(nn::AdaptiveAvgPool2d(1)); }},
      {"batchnorm1d_2d", [] { return one(nn::BatchNorm1d(4)); }},
      {"batchnorm1d_3d_cumulative",
       [] { return one(nn::BatchNorm1d(nn::BatchNorm1dOptions(3).momentum(std::nullopt))); }},
      {"batchnorm2d", [] { return one(nn::BatchNorm2d(nn::BatchNorm2dOptions(3).eps(1e-3).momentum(0.2))); }},
      {"batchnorm2d_no_affine_no_tracking",
       [] { return one(nn::BatchNorm2d(nn::BatchNorm2dOptions(3).affine(false).track_running_stats(false))); }},
      {"layernorm", [] { return one(nn::LayerNorm(std::vector<std::int64_t>{5})); }},
      {"layernorm_2d_no_affine",
       [] { return one(nn::LayerNorm(nn::LayerNormOptions({4, 5}).eps(1e-3).elementwise_affine(false))); }},
      {"dropout_eval", [] { return one(nn::Dropout(0.3)); }},
      {"dropout_p0_train", [] { return one(nn::Dropout(0.0)); }},
      {"embedding", [] { return one(nn::Embedding(10, 4)); }},
      {"embedding_padding_idx", [] { return one(nn::Embedding(nn::EmbeddingOptions(8, 3).padding_idx(2))); }},
      {"embedding_padding_idx_negative",
       [] { return one(nn::Embedding(nn::EmbeddingOptions(6, 2).padding_idx(-1))); }},
      {"flatten", [] { return one(nn::Flatten()); }},
      {"flatten_0_2", [] { return one(nn::Flatten(0, 2)); }},
      {"identity", [] { return one(nn::Identity()); }},
      {"relu", [] { return one(nn::ReLU()); }},
      {"gelu", [] { return one(nn::GELU()); }},
      {"gelu_tanh", [] { return one(nn::GELU(nn::GELUOptions().approximate("tanh"))); }},
      {"tanh", [] { return one(nn::Tanh()); }},
      {"sigmoid", [] { return one(nn::Sigmoid()); }},
      {"silu", [] { return one(nn::SiLU()); }},
      {"leaky_relu", [] { return one(nn::LeakyReLU(0.2)); }},
      {"softmax", [] { return one(nn::Softmax(1)); }},
      {"log_softmax", [] { return one(nn::LogSoftmax(-1)); }},
  };
  return table;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& [name, build] : builders()) names.push_back(name);
  return names;
}

struct Meta {
  std::vector<std::string> steps, keys;
};

Meta read_meta(const fs::path& dir) {
  std::ifstream in(dir / "meta.txt");
  REQUIRE(in.good());
  Meta meta;
  std::string line, word;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    words >> word;
    auto& into = word == "steps" ? meta.steps : meta.keys;
    while (words >> word) into.push_back(word);
  }
  return meta;
}

Tensor load(const fs::path& dir, const std::string& name) { return load_npy((dir / (name + ".npy")).string()); }
bool has(const fs::path& dir, const std::string& name) { return fs::exists(dir / (name + ".npy")); }

// Float64 values within 1e-9 relative (to each element, floored at 1e-3 of the tensor's largest
// magnitude so that near-zero elements are not held to a tighter standard); integers exactly.
void check_close(const Tensor& got, const Tensor& want, const std::string& what) {
  INFO(what);
  REQUIRE(got.defined());
  REQUIRE(got.shape() == want.shape());
  REQUIRE(got.dtype() == want.dtype());
  if (!want.is_floating_point()) {
    CHECK(equal(got, want));
    return;
  }
  const Tensor g = got.detach().contiguous(), w = want.contiguous();
  const double* a = g.data_ptr<double>();
  const double* b = w.data_ptr<double>();
  double scale = 0.0;
  for (std::int64_t i = 0; i < w.numel(); ++i) scale = std::max(scale, std::abs(b[i]));
  double worst = 0.0;
  std::int64_t worst_at = 0;
  for (std::int64_t i = 0; i < w.numel(); ++i) {
    const double excess = std::abs(a[i] - b[i]) / std::max(std::abs(b[i]), 1e-3 * scale + 1e-300);
    if (excess > worst) worst = excess, worst_at = i;
  }
  INFO("worst relative error " << worst << " at flat index " << worst_at);
  CHECK(worst <= 1e-9);
}

}  // namespace

TEST_CASE("every reference case has a tapeflow twin and vice versa", "[nn][layers][reference]") {
  REQUIRE(fs::is_directory(kData));
  std::vector<std::string> on_disk;
  for (const auto& entry : fs::directory_iterator(kData))
    if (entry.is_directory()) on_disk.push_back(entry.path().filename().string());
  std::sort(on_disk.begin(), on_disk.end());
  CHECK(on_disk == case_names());  // std::map keeps names sorted
}

TEST_CASE("layers reproduce PyTorch's outputs, gradients and running statistics", "[nn][layers][reference]") {
  const std::string name = GENERATE(from_range(case_names()));
  INFO("case " << name);
  const fs::path dir = kData / name;
  const Meta meta = read_meta(dir);
  REQUIRE_FALSE(meta.steps.empty());

  Built built = builders().at(name)();
  nn::Module& module = *built.module;
  module.to(kFloat64);
  // Same keys in the same order as torch's state_dict, and a strict load.
  CHECK(module.state_dict().keys() == meta.keys);
  StateDict state("reference state");
  for (const auto& key : meta.keys) state.insert(key, load(dir, "state." + key));
  module.load_state_dict(state);

  for (std::size_t s = 0; s < meta.steps.size(); ++s) {
    const std::string step = "step" + std::to_string(s);
    INFO(step << " (" << meta.steps[s] << ")");
    module.train(meta.steps[s] == "train");
    module.zero_grad();
    std::vector<Tensor> inputs;
    for (int i = 0; has(dir, step + ".in" + std::to_string(i)); ++i) {
      Tensor x = load(dir, step + ".in" + std::to_string(i));
      if (x.is_floating_point()) x.requires_grad_(true);
      inputs.push_back(x);
    }
    const Tensor out = built.forward(inputs);
    check_close(out, load(dir, step + ".out"), "output");
    (out * load(dir, step + ".out_weight")).sum().backward();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const std::string file = step + ".grad.in" + std::to_string(i);
      REQUIRE(has(dir, file) == inputs[i].is_floating_point());
      if (inputs[i].is_floating_point()) check_close(inputs[i].grad(), load(dir, file), "gradient of input " + std::to_string(i));
    }
    for (const auto& p : module.named_parameters()) {
      const std::string file = step + ".grad." + p.key();
      REQUIRE(has(dir, file) == p.value().grad().defined());
      if (has(dir, file)) check_close(p.value().grad(), load(dir, file), "gradient of " + p.key());
    }
  }
  for (const auto& item : module.state_dict()) check_close(item.value(), load(dir, "final." + item.key()), "final " + item.key());
}
