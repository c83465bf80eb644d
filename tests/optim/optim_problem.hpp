#pragma once
// The fixed problem of tests/optim/make_optim_reference.py rebuilt in tapeflow, the optimizer
// configurations it wrote (data/optimizer_configs.txt), and a factory that builds an optimizer from one.
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tapeflow/tapeflow.hpp"

namespace optim_test {

using namespace tapeflow;

// Reference data in tests/optim/data/.
inline std::string data_path(const std::string& name) {
  return std::string(TAPEFLOW_TESTS_DIR) + "/optim/data/" + name;
}

// out = s * (tanh(x @ W1.T + b1) @ W2.T + b2); parameters in the script's order.
struct TinyNetImpl : nn::Module {
  explicit TinyNetImpl(DType dtype = kFloat64) {
    for (const char* name : {"W1", "b1", "W2", "b2", "s"})
      register_parameter(name, load_npy(data_path(std::string("problem_") + name + ".npy")).to(dtype));
    x = load_npy(data_path("problem_x.npy")).to(dtype);
    y = load_npy(data_path("problem_y.npy")).to(dtype);
  }
  Tensor param(const char* name) const { return named_parameters()[name]; }
  Tensor loss() const {
    const Tensor hidden = tanh(matmul(x, param("W1").t()) + param("b1"));
    const Tensor out = param("s") * (matmul(hidden, param("W2").t()) + param("b2"));
    return square(out - y).mean();
  }
  Tensor x, y;
};
TAPEFLOW_MODULE(TinyNet);

// All parameter values, flattened and concatenated (as the script's trajectory rows), in double.
inline std::vector<double> flat_values(const std::vector<Tensor>& params) {
  std::vector<double> out;
  for (const Tensor& p : params) {
    const Tensor c = p.detach().to(kFloat64).contiguous();
    const double* d = c.data_ptr<double>();
    out.insert(out.end(), d, d + c.numel());
  }
  return out;
}

// The bytes of tensors, for bit-identity checks (printed by Catch as a size and a hash only:
// printing megabytes element by element on a failure would take minutes).
struct Bytes {
  std::vector<char> data;
  bool operator==(const Bytes&) const = default;
};
inline Bytes raw_bytes(const std::vector<Tensor>& tensors) {
  Bytes out;
  for (const Tensor& t : tensors) {
    const Tensor c = t.detach().contiguous();
    const char* d = static_cast<const char*>(c.data_ptr());
    out.data.insert(out.data.end(), d, d + c.nbytes());
  }
  return out;
}

using OptionValues = std::map<std::string, double>;

struct Config {
  std::string name, optimizer;
  OptionValues defaults;
  std::optional<OptionValues> group1;  // options of group 1 (over the defaults); none: one group
};

inline std::vector<Config> load_configs() {
  std::ifstream in(data_path("optimizer_configs.txt"));
  REQUIRE(in.good());
  std::vector<Config> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    Config c;
    words >> c.name >> c.optimizer;
    OptionValues* target = &c.defaults;
    std::string word;
    while (words >> word) {
      if (word == "|") {
        c.group1.emplace();
        target = &*c.group1;
        continue;
      }
      const auto eq = word.find('=');
      REQUIRE(eq != std::string::npos);
      (*target)[word.substr(0, eq)] = std::stod(word.substr(eq + 1));
    }
    out.push_back(c);
  }
  return out;
}

// Sets the named options through fields(); every name must be an option of Options.
template <class Options>
Options with_values(Options o, const OptionValues& values) {
  std::size_t used = 0;
  o.fields([&](const char* key, auto& member) {
    if (auto it = values.find(key); it != values.end()) {
      member = static_cast<std::decay_t<decltype(member)>>(it->second);
      ++used;
    }
  });
  REQUIRE(used == values.size());
  return o;
}

template <class Opt, class Options>
std::unique_ptr<optim::Optimizer> build(const Config& c, const std::vector<Tensor>& params) {
  const Options defaults = with_values(Options{}, c.defaults);
  if (!c.group1) return std::make_unique<Opt>(params, defaults);
  // As the script: group 0 = [W1, b1] with the defaults, group 1 = [W2, b2, s] with its own.
  std::vector<optim::ParamGroup<Options>> groups{{{params[0], params[1]}},
                                                 {{params[2], params[3], params[4]}, with_values(defaults, *c.group1)}};
  return std::make_unique<Opt>(std::move(groups), defaults);
}

inline std::unique_ptr<optim::Optimizer> make_optimizer(const Config& c, const std::vector<Tensor>& params) {
  if (c.optimizer == "SGD") return build<optim::SGD, optim::SGDOptions>(c, params);
  if (c.optimizer == "Adam") return build<optim::Adam, optim::AdamOptions>(c, params);
  if (c.optimizer == "AdamW") return build<optim::AdamW, optim::AdamWOptions>(c, params);
  if (c.optimizer == "RMSprop") return build<optim::RMSprop, optim::RMSpropOptions>(c, params);
  if (c.optimizer == "Adagrad") return build<optim::Adagrad, optim::AdagradOptions>(c, params);
  FAIL("unknown optimizer " << c.optimizer);
  return nullptr;
}

// One training step the PyTorch way.
inline void backward_step(optim::Optimizer& opt, const TinyNet& net) {
  opt.zero_grad();
  net->loss().backward();
  opt.step();
}

}  // namespace optim_test

template <>
struct Catch::StringMaker<optim_test::Bytes> {
  static std::string convert(const optim_test::Bytes& b) {
    return std::to_string(b.data.size()) + " bytes, hash " +
           std::to_string(std::hash<std::string_view>{}(std::string_view(b.data.data(), b.data.size())));
  }
};
