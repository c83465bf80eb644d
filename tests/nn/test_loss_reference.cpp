// Every loss against PyTorch 1.13: the cases in data/loss_reference.txt (made by
// make_loss_reference.py, float64) are recomputed here, functional and module forms, and the
// value and the gradients of input and target compared: to 1e-10 in float64, and to float32
// accuracy with the inputs rounded to float32.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
namespace F = tapeflow::nn::functional;

namespace {

struct Case {
  std::string name, loss;
  std::map<std::string, std::string> options;
  std::map<std::string, Tensor> arrays;

  Tensor array(const std::string& key) const {
    auto it = arrays.find(key);
    return it == arrays.end() ? Tensor() : it->second;
  }
  std::string option(const std::string& key, const std::string& fallback) const {
    auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
  }
  double number(const std::string& key, double fallback) const { return std::stod(option(key, std::to_string(fallback))); }
};

// "<name> <f8|i8> <ndim> <dims...> <values...>"
std::pair<std::string, Tensor> parse_array(const std::string& line) {
  std::istringstream in(line);
  std::string name, kind;
  std::int64_t ndim = 0;
  in >> name >> kind >> ndim;
  std::vector<std::int64_t> shape(static_cast<std::size_t>(ndim));
  std::int64_t count = 1;
  for (auto& s : shape) {
    in >> s;
    count *= s;
  }
  if (kind == "i8") {
    std::vector<std::int64_t> v(static_cast<std::size_t>(count));
    for (auto& x : v) in >> x;
    return {name, tensor(v, shape)};
  }
  std::vector<double> v(static_cast<std::size_t>(count));
  for (auto& x : v) {
    std::string word;
    in >> word;
    x = std::stod(word);  // also reads inf / nan
  }
  REQUIRE(in);
  return {name, tensor(v, shape)};
}

std::vector<Case> load_cases() {
  const std::string path = std::string(TAPEFLOW_TESTS_DIR) + "/nn/data/loss_reference.txt";
  std::ifstream file(path);
  REQUIRE(file.good());
  std::vector<Case> cases;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("case ", 0) == 0) {
      std::istringstream in(line.substr(5));
      Case c;
      in >> c.name >> c.loss;
      std::string kv;
      while (in >> kv) {
        const auto eq = kv.find('=');
        c.options[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      cases.push_back(c);
    } else if (line != "end") {
      REQUIRE(!cases.empty());
      cases.back().arrays.insert(parse_array(line));
    }
  }
  return cases;
}

nn::Reduction reduction(const Case& c) {
  const std::string r = c.option("reduction", "mean");
  if (r == "none") return nn::Reduction::None;
  if (r == "sum") return nn::Reduction::Sum;
  REQUIRE(r == "mean");
  return nn::Reduction::Mean;
}

nn::KLDivReduction kl_reduction(const Case& c) {
  const std::string r = c.option("reduction", "mean");
  if (r == "batchmean") return nn::KLDivReduction::BatchMean;
  const nn::Reduction plain = reduction(c);
  return plain == nn::Reduction::None  ? nn::KLDivReduction::None
         : plain == nn::Reduction::Sum ? nn::KLDivReduction::Sum
                                       : nn::KLDivReduction::Mean;
}

// The case's loss on (x, t) with its options: the functional form, or the module form.
Tensor evaluate(const Case& c, const Tensor& x, const Tensor& t, const Tensor& weight, const Tensor& pos_weight,
                bool module) {
  if (c.loss == "kl_div") {
    nn::KLDivLossOptions o{.reduction = kl_reduction(c), .log_target = c.option("log_target", "0") == "1"};
    return module ? nn::KLDivLoss(o)(x, t) : F::kl_div(x, t, o);
  }
  const nn::Reduction red = reduction(c);
  const std::int64_t ignore = static_cast<std::int64_t>(c.number("ignore_index", -100));
  if (c.loss == "mse_loss") return module ? nn::MSELoss(nn::MSELossOptions{red})(x, t) : F::mse_loss(x, t, red);
  if (c.loss == "l1_loss") return module ? nn::L1Loss(nn::L1LossOptions{red})(x, t) : F::l1_loss(x, t, red);
  if (c.loss == "smooth_l1_loss") {
    const double beta = c.number("beta", 1.0);
    return module ? nn::SmoothL1Loss(nn::SmoothL1LossOptions{red, beta})(x, t) : F::smooth_l1_loss(x, t, red, beta);
  }
  if (c.loss == "huber_loss") {
    const double delta = c.number("delta", 1.0);
    return module ? nn::HuberLoss(nn::HuberLossOptions{red, delta})(x, t) : F::huber_loss(x, t, red, delta);
  }
  if (c.loss == "cross_entropy") {
    nn::CrossEntropyLossOptions o{.weight = weight, .ignore_index = ignore, .reduction = red,
                                  .label_smoothing = c.number("label_smoothing", 0.0)};
    return module ? nn::CrossEntropyLoss(o)(x, t) : F::cross_entropy(x, t, o);
  }
  if (c.loss == "nll_loss") {
    nn::NLLLossOptions o{.weight = weight, .ignore_index = ignore, .reduction = red};
    return module ? nn::NLLLoss(o)(x, t) : F::nll_loss(x, t, o);
  }
  if (c.loss == "binary_cross_entropy") {
    nn::BCELossOptions o{.weight = weight, .reduction = red};
    return module ? nn::BCELoss(o)(x, t) : F::binary_cross_entropy(x, t, o);
  }
  if (c.loss == "binary_cross_entropy_with_logits") {
    nn::BCEWithLogitsLossOptions o{.weight = weight, .reduction = red, .pos_weight = pos_weight};
    return module ? nn::BCEWithLogitsLoss(o)(x, t) : F::binary_cross_entropy_with_logits(x, t, o);
  }
  FAIL("unknown loss " << c.loss);
  return {};
}

// "" when every element satisfies |a - e| <= atol + rtol |e| (NaNs must match), else the worst one.
std::string mismatch(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (!actual.defined()) return "no gradient";
  if (!(actual.shape() == expected.shape()))
    return detail::cat_str("shape ", actual.shape(), " instead of ", expected.shape());
  const Tensor a = actual.to(kFloat64).contiguous(), e = expected.to(kFloat64).contiguous();
  const double* ap = a.data_ptr<double>();
  const double* ep = e.data_ptr<double>();
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    const bool both_nan = std::isnan(ap[i]) && std::isnan(ep[i]);
    if (!both_nan && !(std::fabs(ap[i] - ep[i]) <= atol + rtol * std::fabs(ep[i])))
      return detail::cat_str("element ", i, ": ", ap[i], " instead of ", ep[i]);
  }
  return "";
}

// Runs one case in `dtype`: checks the value and the gradients against the reference.
void check_case(const Case& c, DType dtype, bool module, double rtol, double atol_scale) {
  // Fresh copies: the loaded arrays stay untouched (no requires_grad, no .grad()).
  auto cast = [&](const Tensor& t) { return t.defined() && t.is_floating_point() ? t.to(dtype).clone() : t; };
  Tensor x = cast(c.array("input")).requires_grad_(true);
  Tensor t = cast(c.array("target"));
  const Tensor expected_grad_target = c.array("grad_target");
  if (expected_grad_target.defined()) t.requires_grad_(true);
  const Tensor loss = evaluate(c, x, t, cast(c.array("weight")), cast(c.array("pos_weight")), module);
  CHECK(loss.dtype() == dtype);
  // atol follows the size of the values compared: float32 errors are relative to the largest.
  auto atol = [&](const Tensor& e) { return atol_scale * std::max(1.0, e.abs().max().item<double>()); };
  const Tensor expected_loss = c.array("loss");
  CHECK(mismatch(loss, expected_loss, rtol, atol(expected_loss)) == "");
  loss.backward(cast(c.array("grad_output")));
  const Tensor expected_grad = c.array("grad_input");
  INFO("gradient of the input");
  CHECK(mismatch(x.grad(), expected_grad, rtol, atol(expected_grad)) == "");
  if (expected_grad_target.defined()) {
    INFO("gradient of the target");
    CHECK(mismatch(t.grad(), expected_grad_target, rtol, atol(expected_grad_target)) == "");
  }
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = load_cases();
  return all;
}

}  // namespace

TEST_CASE("the reference covers every loss") {
  std::set<std::string> losses;
  for (const Case& c : cases()) losses.insert(c.loss);
  CHECK(losses == std::set<std::string>{"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy",
                                        "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                        "kl_div"});
  CHECK(cases().size() >= 100);
}

TEST_CASE("losses and their gradients match PyTorch in float64") {
  for (const Case& c : cases()) {
    INFO("case " << c.name);
    check_case(c, kFloat64, /*module=*/false, 1e-10, 1e-13);
  }
}

TEST_CASE("loss modules match PyTorch in float64") {
  for (const Case& c : cases()) {
    INFO("case " << c.name << " (module)");
    check_case(c, kFloat64, /*module=*/true, 1e-10, 1e-13);
  }
}

TEST_CASE("losses and their gradients match PyTorch in float32") {
  for (const Case& c : cases()) {
    if (c.option("f32", "1") == "0") continue;  // values that float32 cannot represent
    INFO("case " << c.name << " (float32)");
    check_case(c, kFloat32, /*module=*/false, 1e-4, 1e-5);
  }
}
