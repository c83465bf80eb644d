// Losses on cuda:0 against the same losses on the CPU: cross_entropy and nll_loss over class
// indices (warp-per-sample and thread-per-sample kernels: few and many classes, (N, C, d...)
// inputs; weights, ignore_index, label smoothing; int32/int64 targets; float32/float64), their
// fused backward and their differentiable (create_graph) backward, the binary cross entropies,
// and the errors for bad targets and bad probabilities (the CPU's messages).
#include <functional>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::require_close;
namespace F = tapeflow::nn::functional;

namespace {

struct Case {
  std::string name;
  Shape input_shape;  // (N, C) or (N, C, d1, d2) or (C)
  std::int64_t classes;
};

std::vector<Case> cases() {
  return {{"few classes (thread per sample)", {37, 5}, 5},
          {"many classes (warp per sample)", {19, 300}, 300},
          {"one sample (C)", {11}, 11},
          {"spatial (N, C, d1, d2)", {3, 6, 4, 5}, 6}};
}

Shape target_shape(const Case& c) {
  Shape s;
  for (std::size_t d = 0; d < c.input_shape.size(); ++d)
    if (d != (c.input_shape.size() == 1 ? 0u : 1u)) s.push_back(c.input_shape[d]);
  return s;
}

// Targets in [0, C), with every 5th one set to ignore_index (when given).
Tensor targets(const Case& c, DType dtype, std::int64_t ignore_index) {
  Tensor t = randint(0, c.classes, target_shape(c), kInt64);
  if (ignore_index != -100) {
    Tensor flat = t.reshape({-1});
    std::int64_t* p = flat.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < flat.numel(); i += 5) p[i] = ignore_index;
  }
  return t.to(dtype);
}

// Loss and input gradient of f on both devices, with the gradient seeded by v (one value per
// sample for Reduction::None), optionally through the differentiable backward.
void check_loss(const std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>& f, const Tensor& x,
                const Tensor& t, const Tensor& w, bool create_graph, double rtol) {
  Tensor xc = x.detach().clone().requires_grad_(true), xg = x.to(kGpu, /*copy=*/true).requires_grad_(true);
  const Tensor wg = w.defined() ? w.to(kGpu) : Tensor();
  const Tensor lc = f(xc, t, w), lg = f(xg, t.to(kGpu), wg);
  require_close(lc, lg, rtol, rtol);
  const Tensor v = rand(lc.shape(), x.dtype()) + 0.5;
  lc.backward(v, std::nullopt, create_graph);
  lg.backward(v.to(kGpu), std::nullopt, create_graph);
  require_close(xc.grad(), xg.grad(), rtol, rtol);
}

}  // namespace

TEST_CASE("cross_entropy and nll_loss per sample, and their gradients", "[cuda]") {
  for (const Case& c : cases()) {
    for (DType dtype : {kFloat32, kFloat64}) {
      for (DType tdtype : {kInt64, kInt32}) {
        const double rtol = dtype == kFloat32 ? 2e-5 : 1e-11;
        const Tensor x = (randn(c.input_shape, kFloat64) * 4.0).to(dtype);
        const Tensor w = (rand({c.classes}, kFloat64) + 0.5).to(dtype);
        for (const std::int64_t ignore : std::vector<std::int64_t>{-100, 2}) {
          const Tensor t = targets(c, tdtype, ignore);
          for (double ls : {0.0, 0.15}) {
            for (bool weighted : {false, true}) {
              for (bool create_graph : {false, true}) {
                INFO(c.name << ", " << dtype << ", targets " << tdtype << ", ignore " << ignore << ", smoothing "
                            << ls << ", weighted " << weighted << ", create_graph " << create_graph);
                const Tensor wt = weighted ? w : Tensor();
                // create_graph's cross_entropy backward needs softmax (another family); nll_loss's
                // is elementwise.
                if (!create_graph)
                  check_loss(
                      [&](const Tensor& a, const Tensor& b, const Tensor& ww) {
                        return F::cross_entropy(a, b, {ww, ignore, nn::Reduction::None, ls});
                      },
                      x, t, wt, false, rtol);
                if (ls == 0.0)
                  check_loss(
                      [&](const Tensor& a, const Tensor& b, const Tensor& ww) {
                        return F::nll_loss(a, b, {ww, ignore, nn::Reduction::None});
                      },
                      x, t, wt, create_graph, rtol);
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("cross_entropy with mean and sum reductions, and create_graph", "[cuda]") {
  for (const Case& c : cases()) {
    const Tensor x = randn(c.input_shape, kFloat64) * 3.0;
    const Tensor w = rand({c.classes}, kFloat64) + 0.5;
    const Tensor t = targets(c, kInt64, 1);
    for (nn::Reduction r : {nn::Reduction::Mean, nn::Reduction::Sum}) {
      for (bool create_graph : {false, true}) {
        INFO(c.name << ", reduction " << static_cast<int>(r) << ", create_graph " << create_graph);
        check_loss(
            [&](const Tensor& a, const Tensor& b, const Tensor& ww) {
              return F::cross_entropy(a, b, {ww, 1, r, 0.1});
            },
            x, t, w, create_graph, 1e-11);
      }
    }
  }
}

TEST_CASE("an out-of-range target gives the CPU's IndexError", "[cuda]") {
  const Tensor x = randn({6, 4});
  Tensor t = tensor(std::vector<std::int64_t>{0, 1, 9, 3, -2, 1});  // first bad: 9 at index 2
  std::string cpu_message, gpu_message;
  try {
    F::cross_entropy(x, t, {{}, -100, nn::Reduction::None});
  } catch (const IndexError& e) {
    cpu_message = e.what();
  }
  try {
    F::cross_entropy(x.to(kGpu), t.to(kGpu), {{}, -100, nn::Reduction::None});
  } catch (const IndexError& e) {
    gpu_message = e.what();
  }
  REQUIRE_FALSE(cpu_message.empty());
  REQUIRE(gpu_message == cpu_message);
  // K-dimensional targets name the position as a multi-index.
  const Tensor x4 = randn({2, 3, 2, 2});
  Tensor t4 = zeros({2, 2, 2}, kInt64);
  t4.data_ptr<std::int64_t>()[5] = 3;
  REQUIRE_THROWS_WITH(F::nll_loss(x4.to(kGpu), t4.to(kGpu), {{}, -100, nn::Reduction::None}),
                      Catch::Contains("(1, 0, 1)"));
  // The ignored value is never out of range.
  Tensor ti = tensor(std::vector<std::int64_t>{0, -7, 1});
  REQUIRE_NOTHROW(F::nll_loss(randn({3, 2}).to(kGpu), ti.to(kGpu), {{}, -7, nn::Reduction::None}));
}

TEST_CASE("binary cross entropies and their gradients", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    INFO(dtype);
    const double rtol = dtype == kFloat32 ? 2e-5 : 1e-11;
    const Tensor x = (rand({40, 7}, kFloat64) * 0.98 + 0.01).to(dtype);
    const Tensor t = rand({40, 7}, kFloat64).to(dtype);
    check_loss([](const Tensor& a, const Tensor& b,
                  const Tensor&) { return F::binary_cross_entropy(a, b, {{}, nn::Reduction::None}); },
               x, t, Tensor(), false, rtol);
    // Exact 0 and 1 inputs: the logs are clamped at -100.
    const Tensor edges = tensor(std::vector<double>{0.0, 1.0, 0.0, 1.0}).to(dtype);
    const Tensor et = tensor(std::vector<double>{0.0, 0.0, 1.0, 1.0}).to(dtype);
    require_close(F::binary_cross_entropy(edges, et, {{}, nn::Reduction::None}),
                  F::binary_cross_entropy(edges.to(kGpu), et.to(kGpu), {{}, nn::Reduction::None}));

    const Tensor logits = (randn({40, 7}, kFloat64) * 5.0).to(dtype);
    const Tensor pw = (rand({7}, kFloat64) * 3.0 + 0.1).to(dtype);
    for (bool with_pw : {false, true}) {
      INFO("pos_weight " << with_pw);
      check_loss(
          [&](const Tensor& a, const Tensor& b, const Tensor&) {
            const Tensor p = with_pw ? (a.is_cuda() ? pw.to(kGpu) : pw) : Tensor();
            return F::binary_cross_entropy_with_logits(a, b, {{}, nn::Reduction::None, p});
          },
          logits, t, Tensor(), false, rtol);
    }
  }
}

TEST_CASE("binary_cross_entropy on inputs outside [0, 1] gives the CPU's ValueError", "[cuda]") {
  for (double bad : {1.5, -0.25, std::nan("")}) {
    Tensor x = rand({3, 5}, kFloat64);
    x.data_ptr<double>()[7] = bad;
    x.data_ptr<double>()[11] = 2.0;  // a later bad one: the first is reported
    const Tensor t = rand({3, 5}, kFloat64);
    std::string cpu_message, gpu_message;
    try {
      F::binary_cross_entropy(x, t, {{}, nn::Reduction::None});
    } catch (const ValueError& e) {
      cpu_message = e.what();
    }
    try {
      F::binary_cross_entropy(x.to(kGpu), t.to(kGpu), {{}, nn::Reduction::None});
    } catch (const ValueError& e) {
      gpu_message = e.what();
    }
    INFO("bad value " << bad);
    REQUIRE_FALSE(cpu_message.empty());
    REQUIRE(gpu_message == cpu_message);
  }
}
