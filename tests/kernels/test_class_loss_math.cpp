// The per-element loss math every backend shares (kernels/class_loss_math.hpp), run on the CPU:
// the pieces a kernel assembles from a sample's max and log-sum-exp, against float64 references
// written from the definitions (log_softmax, the smoothed target distribution, the gradient
// (softmax sum(a) - a) g, PyTorch's binary cross entropies), in float32 and float64.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/class_loss_math.hpp"

namespace cl = tapeflow::kernels::class_loss;

namespace {

// Logits with a spread that makes the shift by the max matter (exp(60) overflows float).
std::vector<double> logits(int C, double spread) {
  std::vector<double> x(C);
  for (int k = 0; k < C; ++k) x[k] = spread * std::sin(1.7 * k + 0.3) + (k == 2 ? 60.0 : 0.0);
  return x;
}

// float64 log_softmax straight from its definition (long double inside).
std::vector<double> log_softmax_ref(const std::vector<double>& x) {
  long double m = -INFINITY, s = 0;
  for (double v : x) m = std::max<long double>(m, v);
  for (double v : x) s += std::exp(static_cast<long double>(v) - m);
  std::vector<double> out;
  for (double v : x) out.push_back(static_cast<double>(static_cast<long double>(v) - m - std::log(s)));
  return out;
}

// What a kernel computes for one sample, in T: max and log(sum(exp(x - max))).
template <typename T>
void stats_of(const std::vector<T>& x, T& mx, T& lsum) {
  mx = -std::numeric_limits<T>::infinity();
  for (T v : x) mx = v > mx ? v : mx;
  T s = 0;
  for (T v : x) s += std::exp(v - mx);
  lsum = std::log(s);
}

}  // namespace

TEMPLATE_TEST_CASE("log-softmax pieces from a sample's max and log-sum-exp", "", float, double) {
  using T = TestType;
  const double tol = sizeof(T) == 4 ? 2e-5 : 1e-12;
  for (int C : {1, 3, 10, 257}) {
    const std::vector<double> xd = logits(C, 5.0);
    const std::vector<T> x(xd.begin(), xd.end());
    T mx, lsum;
    stats_of(x, mx, lsum);
    const std::vector<double> ref = log_softmax_ref(std::vector<double>(x.begin(), x.end()));
    double total = 0;
    for (int k = 0; k < C; ++k) {
      INFO("C " << C << ", class " << k);
      REQUIRE(static_cast<double>(cl::neg_log_prob(mx, x[k], lsum)) == Approx(-ref[k]).epsilon(tol).margin(tol));
      const double p = static_cast<double>(cl::softmax_from_stats(x[k], mx, lsum));
      REQUIRE(p == Approx(std::exp(ref[k])).epsilon(tol).margin(tol));
      total += p;
    }
    CHECK(total == Approx(1.0).epsilon(tol * C));
  }
}

TEST_CASE("smoothed loss and its coefficients against the target distribution q") {
  const int C = 7;
  const std::vector<double> x = logits(C, 3.0), logp = log_softmax_ref(x);
  const std::vector<double> w = {0.5, 1.0, 2.0, 0.25, 1.5, 3.0, 0.75};
  for (double ls : {0.0, 0.1, 0.9}) {
    for (int t : {0, 3, 6}) {
      INFO("label_smoothing " << ls << ", target " << t);
      // Reference: -sum_k w[k] q[k] logp[k], q = (1 - ls) one_hot(t) + ls / C.
      double ref = 0, smoothed = 0;
      for (int k = 0; k < C; ++k) {
        const double q = (1 - ls) * (k == t) + ls / C;
        ref -= w[k] * q * logp[k];
        smoothed += w[k] * -logp[k];
      }
      REQUIRE(cl::smoothed_loss(ls, C, w[t], -logp[t], smoothed) == Approx(ref).epsilon(1e-13));
      // a[k] = scale w[k] q[k]: the target's part plus each class's part.
      const double scale = 0.125;
      for (int k = 0; k < C; ++k) {
        const double q = (1 - ls) * (k == t) + ls / C;
        const double a =
            (k == t ? cl::hit_coefficient(scale, ls, w[t]) : 0.0) + cl::smooth_coefficient(scale, ls, C, w[k]);
        REQUIRE(a == Approx(scale * w[k] * q).epsilon(1e-14).margin(1e-300));
      }
    }
  }
}

TEMPLATE_TEST_CASE("gradient from logits: (softmax sum(a) - a) g", "", float, double) {
  using T = TestType;
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  const int C = 9, t = 4;
  const double scale = 0.5, ls = 0.2, g = -1.75;
  const std::vector<double> xd = logits(C, 2.0);
  const std::vector<T> x(xd.begin(), xd.end());
  const std::vector<double> logp = log_softmax_ref(std::vector<double>(x.begin(), x.end()));
  std::vector<double> w(C);
  for (int k = 0; k < C; ++k) w[k] = 0.5 + 0.25 * k;
  T mx, lsum;
  stats_of(x, mx, lsum);
  double sum_a = 0;
  std::vector<double> a(C);
  for (int k = 0; k < C; ++k) sum_a += a[k] = scale * w[k] * ((1 - ls) * (k == t) + ls / C);
  const double hit = cl::hit_coefficient(scale, ls, w[t]);
  double smooth_sum = 0;
  for (int k = 0; k < C; ++k) smooth_sum += cl::smooth_coefficient(scale, ls, C, w[k]);
  const T sm_scale = static_cast<T>((hit + smooth_sum) * g);
  for (int k = 0; k < C; ++k) {
    const T got = cl::logits_grad(cl::softmax_from_stats(x[k], mx, lsum), sm_scale,
                                  cl::smooth_coefficient(scale, ls, C, w[k]), hit, k == t, g);
    const double ref = (std::exp(logp[k]) * sum_a - a[k]) * g;
    INFO("class " << k);
    REQUIRE(static_cast<double>(got) == Approx(ref).epsilon(tol).margin(tol));
  }
  // Finite differences of the loss itself (float64): d/dx_k of scale * g * sum_k' -a'[k'] logp[k'].
  const auto loss_at = [&](const std::vector<double>& xs) {
    const std::vector<double> lp = log_softmax_ref(xs);
    double l = 0;
    for (int k = 0; k < C; ++k) l -= a[k] * lp[k];
    return l * g;
  };
  for (int k = 0; k < C; ++k) {
    std::vector<double> up(x.begin(), x.end()), down = up;
    up[k] += 1e-5;
    down[k] -= 1e-5;
    const double fd = (loss_at(up) - loss_at(down)) / 2e-5;
    const T got = cl::logits_grad(cl::softmax_from_stats(x[k], mx, lsum), sm_scale,
                                  cl::smooth_coefficient(scale, ls, C, w[k]), hit, k == t, g);
    REQUIRE(static_cast<double>(got) == Approx(fd).margin(1e-5));
  }
}

TEST_CASE("target ranges, weights and the (outer, C, inner) layout") {
  CHECK(cl::target_in_range(0, 3, -100));
  CHECK(cl::target_in_range(2, 3, -100));
  CHECK(cl::target_in_range(-100, 3, -100));
  CHECK_FALSE(cl::target_in_range(3, 3, -100));
  CHECK_FALSE(cl::target_in_range(-1, 3, -100));
  CHECK(cl::target_in_range(-1, 3, -1));  // an ignore_index of -1 is not out of range
  const float w[] = {0.5f, 2.0f};
  CHECK(cl::class_weight(w, 1) == 2.0);
  CHECK(cl::class_weight<float>(nullptr, 1) == 1.0);
  // (outer 2, C 3, inner 4): sample s = o * 4 + j, class k at ((o * 3 + k) * 4 + j).
  for (std::int64_t o = 0; o < 2; ++o)
    for (std::int64_t k = 0; k < 3; ++k)
      for (std::int64_t j = 0; j < 4; ++j) REQUIRE(cl::class_offset(o * 4 + j, k, 3, 4) == (o * 3 + k) * 4 + j);
}

TEMPLATE_TEST_CASE("binary cross entropies against float64 formulas", "", float, double) {
  using T = TestType;
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  for (double x : {1e-6, 0.1, 0.5, 0.93}) {
    for (double t : {0.0, 0.3, 1.0}) {
      const double xr = static_cast<double>(static_cast<T>(x));
      const double ref = -(t * std::log(xr) + (1 - t) * std::log1p(-xr));  // log1p: exact near x = 0
      REQUIRE(static_cast<double>(cl::binary_cross_entropy(static_cast<T>(x), static_cast<T>(t))) ==
              Approx(ref).epsilon(tol));
    }
  }
  // log(0) is clamped at -100, as PyTorch does.
  CHECK(cl::binary_cross_entropy(T(0), T(1)) == T(100));
  CHECK(cl::binary_cross_entropy(T(1), T(0)) == T(100));
  CHECK(cl::binary_cross_entropy(T(0), T(0)) == T(0));
  CHECK(cl::is_probability(T(0)));
  CHECK(cl::is_probability(T(1)));
  CHECK_FALSE(cl::is_probability(T(1.5)));
  CHECK_FALSE(cl::is_probability(T(-0.01)));
  CHECK_FALSE(cl::is_probability(std::numeric_limits<T>::quiet_NaN()));

  for (double x : {-30.0, -2.0, 0.0, 0.7, 25.0}) {
    for (double t : {0.0, 0.4, 1.0}) {
      for (double pw : {1.0, 3.0}) {
        // -pw t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)) = pw t softplus(-x) + (1 - t) softplus(x).
        const auto softplus = [](long double z) {
          return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
        };
        const double ref = static_cast<double>(pw * t * softplus(-x) + (1 - t) * softplus(x));
        const T got = cl::binary_cross_entropy_with_logits(static_cast<T>(x), static_cast<T>(t), static_cast<T>(pw),
                                                           pw != 1.0);
        INFO("x " << x << ", t " << t << ", pos_weight " << pw);
        REQUIRE(static_cast<double>(got) == Approx(ref).epsilon(tol).margin(tol));
      }
    }
  }
  // Stable where the naive form overflows.
  CHECK(std::isfinite(cl::binary_cross_entropy_with_logits(T(1000), T(0), T(1), false)));
  CHECK(static_cast<double>(cl::binary_cross_entropy_with_logits(T(-1000), T(1), T(1), false)) == Approx(1000));
}
