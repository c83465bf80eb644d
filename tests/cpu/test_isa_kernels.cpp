// The per-instruction-set kernels (lib/cpu/isa_kernels.cpp) called through each table this CPU
// can run (sse2, avx2, avx512), not only the one chosen at start-up, against float64 references:
// exp and the functors built on it over a sample of every float, the softmax/loss/layer_norm row
// kernels on lengths that hit every tail, and the optimizer loops against the rules in double.
#include <catch2/catch.hpp>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/elementwise.hpp"
#include "cpu/isa_tables.hpp"
#include "core/philox.hpp"
#include "cpu/optim_update_isa.hpp"

using namespace tapeflow::cpu;

namespace {

using isa_test::tables;

template <class F, class T>
void run_unary(const VecTable& t, const F& f, const std::vector<T>& in, std::vector<T>& out) {
  out.resize(in.size());
  const void* ins[] = {in.data()};
  t.get<T>().fns[index_in<F, VecOps<T>>::value](&f, out.data(), ins, static_cast<std::int64_t>(in.size()));
}

// Distance from got to the exact value ref, in units of the float spacing at ref.
double ulps(float got, double ref) {
  int e;
  std::frexp(ref, &e);
  return std::fabs(static_cast<double>(got) - ref) / std::ldexp(1.0, std::max(e - 24, -149));
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::vector<float> float_sample() {  // every 4099th bit pattern (all signs and exponents), plus specials
  std::vector<float> v;
  for (std::uint64_t u = 0; u < (std::uint64_t{1} << 32); u += 4099) v.push_back(from_bits(static_cast<std::uint32_t>(u)));
  for (float s : {0.0f, -0.0f, 88.72f, 88.73f, -87.33f, -103.97f, -104.0f, 1e-30f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN()})
    v.push_back(s);
  return v;
}

}  // namespace

TEST_CASE("isa kernels: the machine runs at least the baseline set") {
  REQUIRE(!tables().empty());
  INFO("chosen: " << simd_arch_name());
  CHECK(std::string(simd_arch_name()) != "");
}

TEST_CASE("isa kernels: float exp within 2 ulp of exp over the float range") {
  const std::vector<float> x = float_sample();
  for (const auto& [name, t] : tables()) {
    INFO("isa " << name);
    std::vector<float> y;
    run_unary(*t, Exp{}, x, y);
    double worst = 0;
    std::size_t wrong_special = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double ref = std::exp(static_cast<double>(x[i]));
      if (std::isnan(x[i])) {
        wrong_special += !std::isnan(y[i]);
      } else if (ref > std::numeric_limits<float>::max() * (1 + 0x1p-25)) {
        wrong_special += y[i] != std::numeric_limits<float>::infinity();
      } else if (name != "avx512" && x[i] > 88.3762626647949f) {
        // xsimd's exp (SSE2, AVX2) gives inf from its maxlog on, below the true overflow point.
        wrong_special += !(y[i] == std::numeric_limits<float>::infinity() || ulps(y[i], ref) <= 2.0);
      } else if (ref < std::numeric_limits<float>::min()) {
        // Subnormal results: exact to 1 ulp with AVX-512's own exp; xsimd's flushes them to 0.
        if (name == "avx512") worst = std::max(worst, ulps(y[i], ref));
        else wrong_special += !(y[i] >= 0 && y[i] <= std::numeric_limits<float>::min());
      } else {
        worst = std::max(worst, ulps(y[i], ref));
      }
    }
    CHECK(wrong_special == 0);
    CHECK(worst <= 2.0);
    CHECK(worst > 0.0);  // the reference is not the kernel's own rounding
  }
}

TEST_CASE("isa kernels: sigmoid, silu and softplus on batches match float64") {
  std::vector<float> x;
  for (int i = -4000; i <= 4000; ++i) x.push_back(static_cast<float>(i) * 0.025f);
  x.push_back(-1e4f);
  x.push_back(1e4f);
  for (const auto& [name, t] : tables()) {
    INFO("isa " << name);
    std::vector<float> sig, silu, soft;
    run_unary(*t, Sigmoid{}, x, sig);
    run_unary(*t, Silu{}, x, silu);
    run_unary(*t, Softplus<float>{1.0f, 20.0f}, x, soft);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double v = x[i], s = 1 / (1 + std::exp(-v));
      const double sp = v * 1.0 > 20 ? v : std::log1p(std::exp(v));
      INFO("x = " << v);
      CHECK(sig[i] == Approx(s).epsilon(2e-6).margin(1e-30));
      CHECK(silu[i] == Approx(v * s).epsilon(2e-6).margin(1e-30));
      CHECK(soft[i] == Approx(sp).epsilon(2e-6).margin(1e-30));
    }
  }
}

TEST_CASE("isa kernels: gelu and its derivative on batches match float64") {
  std::vector<float> x;
  for (int i = -3000; i <= 3000; ++i) x.push_back(static_cast<float>(i) * 0.005f);
  x.push_back(-40.0f);
  x.push_back(40.0f);
  for (const auto& [name, t] : tables()) {
    INFO("isa " << name);
    std::vector<float> gelu, slope;
    run_unary(*t, Gelu{}, x, gelu);
    run_unary(*t, GeluDerivative{}, x, slope);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double v = x[i], cdf = 0.5 * (1 + std::erf(v / std::sqrt(2.0)));
      const double pdf = std::exp(-0.5 * v * v) / std::sqrt(2 * 3.14159265358979323846);
      INFO("x = " << v);
      CHECK(gelu[i] == Approx(v * cdf).epsilon(1e-5).margin(1e-6));
      CHECK(slope[i] == Approx(cdf + v * pdf).epsilon(1e-5).margin(1e-6));
    }
  }
}

TEST_CASE("isa kernels: gelu's left tail keeps its relative accuracy on AVX-512 (no 1 + erf cancellation)") {
  const VecTable* t = vec_table_named("avx512");
  if (t == nullptr) {
    WARN("no AVX-512 on this CPU: the erfc-form gelu is not compiled in");
    return;
  }
  std::vector<float> x, gelu;
  for (int i = 0; i <= 600; ++i) x.push_back(-9.0f + static_cast<float>(i) * 0.01f);  // gelu ~ -1e-18 .. -4e-3
  run_unary(*t, Gelu{}, x, gelu);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double v = x[i], ref = 0.5 * v * std::erfc(-v / std::sqrt(2.0));
    INFO("x = " << v);
    CHECK(std::fabs(gelu[i] - ref) <= 2e-2 * std::fabs(ref));
  }
}

TEMPLATE_TEST_CASE("isa kernels: softmax, loss and layer_norm rows match float64", "", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 2e-6 : 1e-14;
  std::mt19937 rng(7);
  std::normal_distribution<double> normal(0.0, 3.0);
  for (const auto& [name, t] : tables()) {
    const RowKernels<T>& k = t->template get<T>().rows;
    for (std::int64_t n : {1, 3, 7, 16, 17, 33, 100, 1000, 1031}) {
      INFO("isa " << name << ", n = " << n);
      std::vector<T> x(static_cast<std::size_t>(n)), w(x.size()), b(x.size()), y(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<T>(normal(rng));
        w[i] = static_cast<T>(normal(rng));
        b[i] = static_cast<T>(normal(rng));
      }
      x[static_cast<std::size_t>(n) / 2] = T(9.5);  // a known max
      CHECK(k.max(x.data(), n) == *std::max_element(x.begin(), x.end()));
      const T a = T(9.5), c = T(0.25);
      double ref_sum = 0;
      const T sum = k.exp_sum(x.data(), a, c, y.data(), n);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double e = std::exp((static_cast<double>(x[i]) - a) - c);
        ref_sum += e;
        CHECK(y[i] == Approx(e).epsilon(tol).margin(1e-300));
      }
      CHECK(sum == Approx(ref_sum).epsilon(tol * 4));
      k.sub2(x.data(), a, c, y.data(), n);
      for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == Approx((static_cast<double>(x[i]) - a) - c).epsilon(tol));
      std::vector<T> z = x;
      k.scale(z.data(), T(-1.5), n);
      for (std::size_t i = 0; i < x.size(); ++i) CHECK(z[i] == static_cast<T>(x[i] * T(-1.5)));
      double mean = 0, var = 0, ref_mean = 0, ref_var = 0;
      k.moments(x.data(), n, &mean, &var);
      for (T v : x) ref_mean += static_cast<double>(v);
      ref_mean /= static_cast<double>(n);
      for (T v : x) ref_var += (static_cast<double>(v) - ref_mean) * (static_cast<double>(v) - ref_mean);
      ref_var /= static_cast<double>(n);
      CHECK(mean == Approx(ref_mean).epsilon(1e-12).margin(1e-12));
      CHECK(var == Approx(ref_var).epsilon(1e-12).margin(1e-12));
      const T m = T(0.5), r = T(1.25);
      for (int form = 0; form < 4; ++form) {
        const T* wp = form & 1 ? w.data() : nullptr;
        const T* bp = form & 2 ? b.data() : nullptr;
        k.affine(x.data(), m, r, wp, bp, y.data(), n);
        for (std::size_t i = 0; i < x.size(); ++i) {
          const double ref = (static_cast<double>(x[i]) - m) * r * (wp ? static_cast<double>(w[i]) : 1.0) +
                             (bp ? static_cast<double>(b[i]) : 0.0);
          CHECK(y[i] == Approx(ref).epsilon(tol * 4).margin(tol * 16));
        }
      }
      // layer_norm's input gradient, with and without a weight: b stands in for the output gradient.
      for (const T* wp : {static_cast<const T*>(w.data()), static_cast<const T*>(nullptr)}) {
        const double nm = 0.3, nr = 0.8;
        k.norm_grad(b.data(), x.data(), wp, nm, nr, y.data(), n);
        double sg = 0, sgx = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
          const double gy = static_cast<double>(b[i]) * (wp ? static_cast<double>(w[i]) : 1.0);
          sg += gy;
          sgx += gy * (static_cast<double>(x[i]) - nm) * nr;
        }
        for (std::size_t i = 0; i < x.size(); ++i) {
          const double gy = static_cast<double>(b[i]) * (wp ? static_cast<double>(w[i]) : 1.0);
          const double ref = nr * (gy - sg / static_cast<double>(n) - (static_cast<double>(x[i]) - nm) * nr * sgx / static_cast<double>(n));
          CHECK(y[i] == Approx(ref).epsilon(tol * 16).margin(tol * 64));
        }
      }
    }
  }
}

TEMPLATE_TEST_CASE("isa kernels: optimizer loops match the rules in double", "", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  constexpr std::int64_t n = 203;  // vector body and tail
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  auto random_vec = [&](double lo) {
    std::vector<T> v(n);
    for (T& e : v) e = static_cast<T>(lo >= 0 ? lo + std::fabs(uni(rng)) : uni(rng));
    return v;
  };
  AdamUpdate au{};
  au.lr = 0.01;
  au.beta1 = 0.9;
  au.beta2 = 0.999;
  au.eps = 1e-8;
  au.weight_decay = 0.1;
  au.bias_correction1 = 1 - 0.9 * 0.9;
  au.bias_correction2_sqrt = std::sqrt(1 - 0.999 * 0.999);
  SGDUpdate su{};
  su.lr = 0.1;
  su.momentum = 0.9;
  su.dampening = 0.0;
  su.weight_decay = 0.01;
  su.nesterov = true;
  for (const auto& [name, t] : tables()) {
    INFO("isa " << name);
    const UpdateFn* fns = t->updates->template get<T>();
    for (int amsgrad = 0; amsgrad < 2; ++amsgrad) {
      INFO("amsgrad " << amsgrad);
      auto p = random_vec(-1), g = random_vec(-1), m = random_vec(-1), v = random_vec(0.0), vmax = random_vec(0.5);
      std::vector<double> pd(p.begin(), p.end()), md(m.begin(), m.end()), vd(v.begin(), v.end()),
          vmaxd(vmax.begin(), vmax.end());
      const optim_rules::AdamRule<T> rule(au);
      const optim_rules::AdamRule<double> ruled(au);
      void* state[] = {m.data(), v.data(), vmax.data()};
      if (amsgrad) fns[index_in<UpdateEntry<optim_rules::AdamRule<T>, 3>, UpdateOps<T>>::value](&rule, 0, n, p.data(), g.data(), state);
      else fns[index_in<UpdateEntry<optim_rules::AdamRule<T>, 2>, UpdateOps<T>>::value](&rule, 0, n, p.data(), g.data(), state);
      for (std::size_t i = 0; i < p.size(); ++i) {
        if (amsgrad) ruled(pd[i], static_cast<double>(g[i]), md[i], vd[i], vmaxd[i]);
        else ruled(pd[i], static_cast<double>(g[i]), md[i], vd[i]);
        CHECK(p[i] == Approx(pd[i]).epsilon(tol).margin(tol));
        CHECK(m[i] == Approx(md[i]).epsilon(tol).margin(tol));
        CHECK(v[i] == Approx(vd[i]).epsilon(tol).margin(tol));
        if (amsgrad) CHECK(vmax[i] == Approx(vmaxd[i]).epsilon(tol).margin(tol));
      }
    }
    {
      auto p = random_vec(-1), g = random_vec(-1), buf = random_vec(-1);
      std::vector<double> pd(p.begin(), p.end()), bd(buf.begin(), buf.end());
      const optim_rules::SGDRule<T> rule(su, false);
      const optim_rules::SGDRule<double> ruled(su, false);
      void* state[] = {buf.data()};
      fns[index_in<UpdateEntry<optim_rules::SGDRule<T>, 1>, UpdateOps<T>>::value](&rule, 0, n, p.data(), g.data(), state);
      for (std::size_t i = 0; i < p.size(); ++i) {
        ruled(pd[i], static_cast<double>(g[i]), bd[i]);
        CHECK(p[i] == Approx(pd[i]).epsilon(tol).margin(tol));
        CHECK(buf[i] == Approx(bd[i]).epsilon(tol).margin(tol));
      }
    }
  }
}

TEMPLATE_TEST_CASE("isa kernels: sum_rows adds rows in order, equal to the scalar loop bit for bit", "", float,
                   double) {
  using T = TestType;
  std::mt19937 rng(11);
  std::normal_distribution<double> normal(0.0, 1e3);
  for (const auto& [name, t] : tables())
    for (std::int64_t rows : {1, 3, 4, 5, 9}) {
      for (std::int64_t len : {1, 7, 8, 17, 64, 100}) {
        INFO("isa " << name << ", rows = " << rows << ", len = " << len);
        const std::int64_t stride = len + 3;  // rows apart, with a gap that must not be read
        std::vector<T> x(static_cast<std::size_t>(rows * stride));
        for (auto& v : x) v = static_cast<T>(normal(rng));
        std::vector<double> start(static_cast<std::size_t>(len));
        for (auto& v : start) v = normal(rng);
        std::vector<double> want = start, got = start;
        for (std::int64_t r = 0; r < rows; ++r)
          for (std::int64_t j = 0; j < len; ++j)
            want[static_cast<std::size_t>(j)] += static_cast<double>(x[static_cast<std::size_t>(r * stride + j)]);
        t->template get<T>().sum_rows(x.data(), stride, rows, len, got.data());
        for (std::size_t j = 0; j < want.size(); ++j) REQUIRE(got[j] == want[j]);
      }
    }
}

namespace {

// Two pages, the second inaccessible: an array placed to end at the boundary faults on any read
// or write past its last element.
struct GuardedPages {
  GuardedPages() : page(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))) {
    base = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    REQUIRE(base != MAP_FAILED);
    REQUIRE(mprotect(base + page, page, PROT_NONE) == 0);
  }
  ~GuardedPages() { munmap(base, 2 * page); }
  template <class T>
  T* ending_at_guard(std::size_t n) { return reinterpret_cast<T*>(base + page) - n; }
  std::size_t page;
  char* base;
};

}  // namespace

// The tails (n % batch width) go through masked loads and stores on AVX2/AVX-512: every length up
// to two batches, operands ending right at an inaccessible page, and the output's neighbours kept.
TEMPLATE_TEST_CASE("isa kernels: contiguous tails touch exactly their n elements", "", float, double) {
  using T = TestType;
  GuardedPages a_pages, b_pages, out_pages;
  for (const auto& [name, t] : tables())
    for (std::size_t n = 1; n <= 2 * 64 / sizeof(T) + 1; ++n) {
      INFO("isa " << name << ", n = " << n);
      T* a = a_pages.ending_at_guard<T>(n);
      T* b = b_pages.ending_at_guard<T>(n);
      T* out = out_pages.ending_at_guard<T>(n);
      for (std::size_t i = 0; i < n; ++i) {
        a[i] = static_cast<T>(0.25 * static_cast<double>(i) - 3.0);
        b[i] = static_cast<T>(1.5 + static_cast<double>(i % 5));
      }
      out[-1] = T(-7);  // the element before the output must survive
      const void* ins[] = {a, b};
      const Add add_op;
      t->template get<T>().fns[index_in<Add, VecOps<T>>::value](&add_op, out, ins, static_cast<std::int64_t>(n));
      for (std::size_t i = 0; i < n; ++i) REQUIRE(out[i] == a[i] + b[i]);
      const Exp exp_op;
      t->template get<T>().fns[index_in<Exp, VecOps<T>>::value](&exp_op, out, ins, static_cast<std::int64_t>(n));
      for (std::size_t i = 0; i < n; ++i)
        REQUIRE(static_cast<double>(out[i]) == Approx(std::exp(static_cast<double>(a[i]))).epsilon(1e-6));
      CHECK(out[-1] == T(-7));
    }
}

TEST_CASE("isa kernels: vectorised Philox gives the scalar function's words") {
  namespace px = tapeflow::detail::philox;
  for (const auto& [isa, table] : tables()) {
    INFO("instruction set " << isa);
    // Counters that cross a 2^32 boundary (the carry into the second word) and seeds with high bits.
    for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{42}, std::uint64_t{0xDEADBEEFCAFEF00DULL}})
      for (std::uint64_t counter : {std::uint64_t{0}, std::uint64_t{0xFFFFFFF0ULL}, std::uint64_t{0x123456789ABULL}})
        for (std::int64_t count : {std::int64_t{1}, std::int64_t{5}, std::int64_t{16}, std::int64_t{17}, kPhiloxBatch}) {
          std::vector<std::uint32_t> words(4 * kPhiloxBatch, 0);
          table->philox(seed, counter, count, words.data());
          for (std::int64_t i = 0; i < count; ++i) {
            const px::Block want = px::block(seed, counter + static_cast<std::uint64_t>(i));
            for (int j = 0; j < 4; ++j) REQUIRE(words[static_cast<std::size_t>(j * kPhiloxBatch + i)] == want.w[j]);
          }
        }
  }
}

TEST_CASE("maps prefetch 2 KiB ahead on Intel CPUs and 8 KiB on others, as measured") {
  // The vendor as the kernel reports it in /proc/cpuinfo (the library asks cpuid).
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, vendor;
  while (vendor.empty() && std::getline(cpuinfo, line))
    if (line.rfind("vendor_id", 0) == 0) vendor = line.substr(line.find(':') + 1);
  INFO("vendor_id:" << vendor);
  if (vendor.empty()) return;  // not x86 Linux: nothing to compare with
  REQUIRE(g_map_prefetch_bytes == (vendor.find("GenuineIntel") != std::string::npos ? 2048 : 8192));
}
