// Normalisation kernels: two-pass mean/variance accumulated in double (several partial sums
// so the adds pipeline), then one affine pass.
#include "cpu/norm.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <vector>

#include "core/parallel.hpp"
#include "cpu/elementwise.hpp"

namespace tapeflow::cpu {
namespace {

constexpr int kLanes = 8;  // independent partial sums

template <typename T, typename F>
double accumulate(const T* x, std::int64_t n, F&& f) {
  double acc[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += f(static_cast<double>(x[i + l]));
  for (; i < n; ++i) acc[0] += f(static_cast<double>(x[i]));
  double s = 0;
  for (double a : acc) s += a;
  return s;
}

template <typename T>
double sum(const T* x, std::int64_t n) {
  return accumulate(x, n, [](double v) { return v; });
}
template <typename T>
double sum_sq_dev(const T* x, std::int64_t n, double mean) {
  return accumulate(x, n, [mean](double v) { return (v - mean) * (v - mean); });
}

template <typename T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Grain in units of rows/planes of `len` elements.
std::int64_t grain_for(std::int64_t len) {
  return std::max<std::int64_t>(1, detail::kElementwiseGrain / std::max<std::int64_t>(len, 1));
}

}  // namespace

void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                const Tensor& bias, std::int64_t M, std::int64_t N, double eps) {
  dispatch_floating(x.dtype(), "layer_norm", [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    const T *w = ptr_or_null<T>(weight), *b = ptr_or_null<T>(bias);
    T *o = out.data_ptr<T>(), *mu = mean.data_ptr<T>(), *rs = rstd.data_ptr<T>();
    // The row kernels of the chosen instruction set (row_kernels.hpp), or the loops below.
    const RowKernels<T>* k = g_vec_table ? &g_vec_table->template get<T>().rows : nullptr;
    detail::parallel_for(0, M, grain_for(N), [&](std::int64_t rb, std::int64_t re) {
      for (std::int64_t r = rb; r < re; ++r) {
        const T* xr = in + r * N;
        T* yr = o + r * N;
        if (k) {
          double m, var;
          k->moments(xr, N, &m, &var);
          mu[r] = static_cast<T>(m);
          rs[r] = static_cast<T>(1.0 / std::sqrt(var + eps));
          k->affine(xr, mu[r], rs[r], w, b, yr, N);
          continue;
        }
        const double m = sum(xr, N) / static_cast<double>(N);
        const double var = sum_sq_dev(xr, N, m) / static_cast<double>(N);
        const T mt = static_cast<T>(m), rt = static_cast<T>(1.0 / std::sqrt(var + eps));
        mu[r] = mt;
        rs[r] = rt;
        if (w && b) for (std::int64_t i = 0; i < N; ++i) yr[i] = (xr[i] - mt) * rt * w[i] + b[i];
        else if (w) for (std::int64_t i = 0; i < N; ++i) yr[i] = (xr[i] - mt) * rt * w[i];
        else if (b) for (std::int64_t i = 0; i < N; ++i) yr[i] = (xr[i] - mt) * rt + b[i];
        else for (std::int64_t i = 0; i < N; ++i) yr[i] = (xr[i] - mt) * rt;
      }
    });
  });
}

void channel_moments(const Tensor& mean, const Tensor& var, const Tensor& x, std::int64_t N, std::int64_t C,
                     std::int64_t S) {
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T *mu = mean.data_ptr<T>(), *va = var.data_ptr<T>();
    const double count = static_cast<double>(N * S);
    // A task owns a block of channels and walks the batch in memory order, so small S (e.g.
    // (N, C) inputs) reads contiguous runs instead of striding through the whole tensor.
    detail::parallel_for(0, C, grain_for(N * S), [&](std::int64_t cb, std::int64_t ce) {
      std::vector<double> m(static_cast<std::size_t>(ce - cb), 0.0), q(m.size(), 0.0);
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t c = cb; c < ce; ++c) m[static_cast<std::size_t>(c - cb)] += sum(in + (n * C + c) * S, S);
      for (double& v : m) v /= count;
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t c = cb; c < ce; ++c)
          q[static_cast<std::size_t>(c - cb)] += sum_sq_dev(in + (n * C + c) * S, S, m[static_cast<std::size_t>(c - cb)]);
      for (std::int64_t c = cb; c < ce; ++c) {
        mu[c] = static_cast<T>(m[static_cast<std::size_t>(c - cb)]);
        va[c] = static_cast<T>(q[static_cast<std::size_t>(c - cb)] / count);
      }
    });
  });
}

void inverse_std(const Tensor& rstd, const Tensor& var, double eps) {
  dispatch_floating(var.dtype(), "batch_norm", [&]<typename T>() {
    const T* v = var.data_ptr<T>();
    T* r = rstd.data_ptr<T>();
    for (std::int64_t i = 0; i < var.numel(); ++i) r[i] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(v[i]) + eps));
  });
}

void channel_normalize(const Tensor& out, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                       const Tensor& weight, const Tensor& bias, std::int64_t N, std::int64_t C, std::int64_t S) {
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    const T *mu = mean.data_ptr<T>(), *rs = rstd.data_ptr<T>();
    const T *w = ptr_or_null<T>(weight), *b = ptr_or_null<T>(bias);
    T* o = out.data_ptr<T>();
    // Per channel, y = x * scale + shift.
    detail::parallel_for(0, N * C, grain_for(S), [&](std::int64_t pb, std::int64_t pe) {
      for (std::int64_t p = pb; p < pe; ++p) {
        const std::int64_t c = p % C;
        const T scale = rs[c] * (w ? w[c] : T(1));
        const T shift = (b ? b[c] : T(0)) - mu[c] * scale;
        const T* xp = in + p * S;
        T* yp = o + p * S;
        for (std::int64_t i = 0; i < S; ++i) yp[i] = xp[i] * scale + shift;
      }
    });
  });
}

void momentum_update(const Tensor& running, const Tensor& stat, double momentum, double factor) {
  dispatch_floating(running.dtype(), "batch_norm", [&]<typename T>() {
    T* r = running.data_ptr<T>();
    const T* s = stat.data_ptr<T>();
    for (std::int64_t i = 0; i < running.numel(); ++i)
      r[i] = static_cast<T>((1.0 - momentum) * static_cast<double>(r[i]) + momentum * factor * static_cast<double>(s[i]));
  });
}

void layer_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                         const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, std::int64_t M,
                         std::int64_t N) {
  dispatch_floating(x.dtype(), "layer_norm", [&]<typename T>() {
    const T *in = x.data_ptr<T>(), *go = g.data_ptr<T>(), *mu = mean.data_ptr<T>(), *rs = rstd.data_ptr<T>();
    const T* w = ptr_or_null<T>(weight);
    T* gx = grad_x.defined() ? grad_x.data_ptr<T>() : nullptr;
    const bool params = grad_weight.defined() || grad_bias.defined();
    std::vector<double> gw_total(params ? static_cast<std::size_t>(N) : 0, 0.0), gb_total(gw_total.size(), 0.0);
    std::mutex m;
    const RowKernels<T>* row_kernels = g_vec_table ? &g_vec_table->template get<T>().rows : nullptr;
    detail::parallel_for(0, M, grain_for(N), [&](std::int64_t rb, std::int64_t re) {
      std::vector<double> gw(gw_total.size(), 0.0), gb(gw_total.size(), 0.0);
      for (std::int64_t r = rb; r < re; ++r) {
        const T *xr = in + r * N, *gr = go + r * N;
        const double mr = static_cast<double>(mu[r]), rr = static_cast<double>(rs[r]);
        if (params)
          for (std::int64_t i = 0; i < N; ++i) {
            const auto k = static_cast<std::size_t>(i);
            gw[k] += static_cast<double>(gr[i]) * (static_cast<double>(xr[i]) - mr) * rr;
            gb[k] += static_cast<double>(gr[i]);
          }
        if (!gx) continue;
        if (row_kernels) {  // vectorised per instruction set; the loops below are the portable fallback
          row_kernels->norm_grad(gr, xr, w, mr, rr, gx + r * N, N);
          continue;
        }
        // Row sums of gy = g * w and of gy * xhat.
        double s1 = 0, s2 = 0;
        for (std::int64_t i = 0; i < N; ++i) {
          const double gy = static_cast<double>(gr[i]) * (w ? static_cast<double>(w[i]) : 1.0);
          s1 += gy;
          s2 += gy * (static_cast<double>(xr[i]) - mr) * rr;
        }
        const double a = s1 / static_cast<double>(N), c = s2 / static_cast<double>(N);
        T* out = gx + r * N;
        for (std::int64_t i = 0; i < N; ++i) {
          const double gy = static_cast<double>(gr[i]) * (w ? static_cast<double>(w[i]) : 1.0);
          const double xhat = (static_cast<double>(xr[i]) - mr) * rr;
          out[i] = static_cast<T>(rr * (gy - a - xhat * c));
        }
      }
      if (!params) return;
      std::lock_guard<std::mutex> lock(m);
      for (std::size_t k = 0; k < gw.size(); ++k) {
        gw_total[k] += gw[k];
        gb_total[k] += gb[k];
      }
    });
    if (grad_weight.defined())
      for (std::int64_t i = 0; i < N; ++i) grad_weight.data_ptr<T>()[i] = static_cast<T>(gw_total[static_cast<std::size_t>(i)]);
    if (grad_bias.defined())
      for (std::int64_t i = 0; i < N; ++i) grad_bias.data_ptr<T>()[i] = static_cast<T>(gb_total[static_cast<std::size_t>(i)]);
  });
}

void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                         const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, std::int64_t N,
                         std::int64_t C, std::int64_t S, bool training) {
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    const T *in = x.data_ptr<T>(), *go = g.data_ptr<T>(), *mu = mean.data_ptr<T>(), *rs = rstd.data_ptr<T>();
    const T* w = ptr_or_null<T>(weight);
    // Per channel: sg = sum(g), sgx = sum(g * xhat), walking the batch in memory order.
    std::vector<double> sg(static_cast<std::size_t>(C), 0.0), sgx(sg.size(), 0.0);
    detail::parallel_for(0, C, grain_for(N * S), [&](std::int64_t cb, std::int64_t ce) {
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t c = cb; c < ce; ++c) {
          const T *xp = in + (n * C + c) * S, *gp = go + (n * C + c) * S;
          const double mc = static_cast<double>(mu[c]);
          double a = 0, b = 0;
          for (std::int64_t i = 0; i < S; ++i) {
            a += static_cast<double>(gp[i]);
            b += static_cast<double>(gp[i]) * (static_cast<double>(xp[i]) - mc);
          }
          sg[static_cast<std::size_t>(c)] += a;
          sgx[static_cast<std::size_t>(c)] += b * static_cast<double>(rs[c]);
        }
    });
    for (std::int64_t c = 0; c < C; ++c) {
      if (grad_weight.defined()) grad_weight.data_ptr<T>()[c] = static_cast<T>(sgx[static_cast<std::size_t>(c)]);
      if (grad_bias.defined()) grad_bias.data_ptr<T>()[c] = static_cast<T>(sg[static_cast<std::size_t>(c)]);
    }
    if (!grad_x.defined()) return;
    T* gx = grad_x.data_ptr<T>();
    const double count = static_cast<double>(N * S);
    detail::parallel_for(0, N * C, grain_for(S), [&](std::int64_t pb, std::int64_t pe) {
      for (std::int64_t p = pb; p < pe; ++p) {
        const std::int64_t c = p % C;
        const auto k = static_cast<std::size_t>(c);
        const double r = static_cast<double>(rs[c]), scale = r * (w ? static_cast<double>(w[c]) : 1.0);
        const double mc = static_cast<double>(mu[c]);
        const double a = training ? sg[k] / count : 0.0, b = training ? sgx[k] / count : 0.0;
        const T *xp = in + p * S, *gp = go + p * S;
        T* out = gx + p * S;
        for (std::int64_t i = 0; i < S; ++i)
          out[i] = static_cast<T>(scale * (static_cast<double>(gp[i]) - a - (static_cast<double>(xp[i]) - mc) * r * b));
      }
    });
  });
}

}  // namespace tapeflow::cpu
