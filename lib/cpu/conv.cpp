// Convolution as im2col + GEMM. The output pixels of each image and group are cut into blocks of
// whole output rows whose column matrix stays cache-sized; the blocks are the parallel tasks
// (one OpenBLAS thread each), so even a single large image keeps every core busy.
#include "cpu/conv.hpp"

#include <algorithm>

#include "cpu/conv_gemm.hpp"
#include "cpu/conv_shifted.hpp"

namespace tapeflow::cpu {
namespace {

using conv_detail::copy_run;

// The outputs o in [0, n_out) whose input position o * s + off lies in [0, n_in).
struct Range {
  std::int64_t lo, hi;
};
Range valid_range(std::int64_t off, std::int64_t s, std::int64_t n_in, std::int64_t n_out) {
  const std::int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
  const std::int64_t last = n_in - 1 - off;  // o * s <= last
  std::int64_t hi = last < 0 ? 0 : std::min(n_out, last / s + 1);
  return {std::min(lo, n_out), std::max(hi, std::min(lo, n_out))};
}

// Visits every (column-matrix row, output row) pair of output rows [oh0, oh1): f(seg, src, inside, w)
// where seg is the offset of the Wo-long segment of the column matrix (block of width (oh1-oh0)*Wo), src the
// input offset of output column 0 (may be negative; only valid columns are read), whether
// the row is inside the input (false: a padding row) and the valid output-column range.
template <typename F>
void for_each_col_segment(const ConvGeom& g, std::int64_t oh0, std::int64_t oh1, F&& f) {
  const std::int64_t width = (oh1 - oh0) * g.Wo;
  for (std::int64_t c = 0; c < g.C; ++c)
    for (std::int64_t ki = 0; ki < g.kH; ++ki) {
      const std::int64_t hoff = ki * g.dH - g.pH;
      const Range hr = valid_range(hoff, g.sH, g.H, g.Ho);
      for (std::int64_t kj = 0; kj < g.kW; ++kj) {
        const std::int64_t woff = kj * g.dW - g.pW;
        const Range wr = valid_range(woff, g.sW, g.W, g.Wo);
        const std::int64_t row = (c * g.kH + ki) * g.kW + kj;
        for (std::int64_t oh = oh0; oh < oh1; ++oh) {
          const std::int64_t seg = row * width + (oh - oh0) * g.Wo;
          const bool inside = oh >= hr.lo && oh < hr.hi;
          f(seg, (c * g.H + oh * g.sH + hoff) * g.W + woff, inside, wr);
        }
      }
    }
}

template <typename T>
void im2col_rows(const T* im, const ConvGeom& g, std::int64_t oh0, std::int64_t oh1, T* col) {
  for_each_col_segment(g, oh0, oh1, [&](std::int64_t seg, std::int64_t src, bool inside, Range wr) {
    T* d = col + seg;
    if (!inside) {
      std::fill(d, d + g.Wo, T(0));
      return;
    }
    std::fill(d, d + wr.lo, T(0));
    // im[src + ow * sW] is the input of output column ow.
    if (g.sW == 1) copy_run(d + wr.lo, im + (src + wr.lo), wr.hi - wr.lo);
    else if (g.sW == 2)  // a stride known here: the compiler vectorises the loads (two and a shuffle)
      for (std::int64_t ow = wr.lo; ow < wr.hi; ++ow) d[ow] = im[src + ow * 2];
    else
      for (std::int64_t ow = wr.lo; ow < wr.hi; ++ow) d[ow] = im[src + ow * g.sW];
    std::fill(d + wr.hi, d + g.Wo, T(0));
  });
}

template <typename T>
void gemm(std::int64_t M, std::int64_t N, std::int64_t K, const T* A, std::int64_t lda, const T* B,
          std::int64_t ldb, T beta, T* C, std::int64_t ldc) {
  conv_detail::gemm<T>(false, false, M, N, K, A, lda, B, ldb, beta, C, ldc);
}
using conv_detail::gemm;
using conv_detail::run_tasks;

// The adjoint of im2col_rows: adds a column block of output rows [oh0, oh1) back into im.
template <typename T>
void col2im_rows(const T* col, const ConvGeom& g, std::int64_t oh0, std::int64_t oh1, T* im) {
  for_each_col_segment(g, oh0, oh1, [&](std::int64_t seg, std::int64_t src, bool inside, Range wr) {
    if (!inside) return;
    const T* c = col + seg;
    if (g.sW == 1) {  // a contiguous run: let the compiler vectorise it
      T* d = im + src;
      for (std::int64_t ow = wr.lo; ow < wr.hi; ++ow) d[ow] += c[ow];
    } else if (g.sW == 2) {
      for (std::int64_t ow = wr.lo; ow < wr.hi; ++ow) im[src + ow * 2] += c[ow];
    } else {
      for (std::int64_t ow = wr.lo; ow < wr.hi; ++ow) im[src + ow * g.sW] += c[ow];
    }
  });
}

// Column blocks of about this many bytes keep im2col's output in L2 while GEMM packs it.
constexpr std::int64_t kColBlockBytes = std::int64_t(1) << 20;
// Output rows per column block: the whole image for 1x1 kernels (nothing is copied).
template <typename T>
std::int64_t block_rows(const ConvGeom& g) {
  if (g.is_pointwise()) return g.Ho;
  const std::int64_t row_bytes = g.col_rows() * g.Wo * static_cast<std::int64_t>(sizeof(T));
  return std::clamp<std::int64_t>(kColBlockBytes / std::max<std::int64_t>(row_bytes, 1), 1, std::max<std::int64_t>(g.Ho, 1));
}

}  // namespace

template <typename T>
void im2col(const T* im, const ConvGeom& g, T* col) {
  im2col_rows(im, g, 0, g.Ho, col);
}

template <typename T>
void col2im(const T* col, const ConvGeom& g, T* im) {
  col2im_rows(col, g, 0, g.Ho, im);
}

template void im2col<float>(const float*, const ConvGeom&, float*);
template void im2col<double>(const double*, const ConvGeom&, double*);
template void col2im<float>(const float*, const ConvGeom&, float*);
template void col2im<double>(const double*, const ConvGeom&, double*);

void conv2d_forward(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                    const ConvGeom& g, std::int64_t groups) {
  dispatch_floating(out.dtype(), "conv2d", [&]<typename T>() {
    const T* in = input.data_ptr<T>();
    const T* w = weight.data_ptr<T>();
    const T* b = bias.defined() ? bias.data_ptr<T>() : nullptr;
    T* o = out.data_ptr<T>();
    const std::int64_t N = input.size(0), Cout = weight.size(0), Mg = Cout / groups;
    const std::int64_t K = g.col_rows(), P = g.col_cols(), HW = g.H * g.W;
    if (K > 0 && P > 0 && conv_uses_shifted_planes(g)) return conv2d_forward_shifted<T>(o, in, w, b, N, Cout, g, groups);
    const bool pointwise = g.is_pointwise();
    const std::int64_t rows = block_rows<T>(g);
    const std::int64_t blocks = (g.Ho + rows - 1) / rows;
    const std::int64_t tasks = N * groups * blocks;

    auto run = [&](std::int64_t t, T* col) {
      const std::int64_t blk = t % blocks, gi = (t / blocks) % groups, n = t / (blocks * groups);
      const std::int64_t oh0 = blk * rows, oh1 = std::min(g.Ho, oh0 + rows), p0 = oh0 * g.Wo, width = (oh1 - oh0) * g.Wo;
      const T* src = in + (n * groups + gi) * g.C * HW;
      T* dst = o + (n * Cout + gi * Mg) * P + p0;
      T beta = T(0);
      if (b) {
        for (std::int64_t m = 0; m < Mg; ++m) std::fill(dst + m * P, dst + m * P + width, b[gi * Mg + m]);
        beta = T(1);
      }
      if (K == 0) {
        if (!b)
          for (std::int64_t m = 0; m < Mg; ++m) std::fill(dst + m * P, dst + m * P + width, T(0));
        return;
      }
      if (pointwise) {
        gemm<T>(Mg, width, K, w + gi * Mg * K, K, src + p0, P, beta, dst, P);
      } else {
        im2col_rows(src, g, oh0, oh1, col);
        gemm<T>(Mg, width, K, w + gi * Mg * K, K, col, width, beta, dst, P);
      }
    };

    const double flops = 2.0 * static_cast<double>(N * Cout) * static_cast<double>(P) * static_cast<double>(K);
    run_tasks<T>(tasks, flops, pointwise ? 0 : K * rows * g.Wo, run);
  });
}

// grad_input: per image and group, col = W_g^T * G_g, folded back with col2im (row blocks in
// order, so one task owns its whole input slice and nothing races).
void conv2d_backward_input(const Tensor& grad_input, const Tensor& grad, const Tensor& weight, const ConvGeom& g,
                           std::int64_t groups) {
  dispatch_floating(grad.dtype(), "conv2d_backward_input", [&]<typename T>() {
    const T* go = grad.data_ptr<T>();
    const T* w = weight.data_ptr<T>();
    T* gi = grad_input.data_ptr<T>();
    const std::int64_t N = grad_input.size(0), Cout = weight.size(0), Mg = Cout / groups;
    const std::int64_t K = g.col_rows(), P = g.col_cols(), HW = g.H * g.W;
    const bool pointwise = g.is_pointwise();
    const std::int64_t rows = block_rows<T>(g);
    std::fill(gi, gi + grad_input.numel(), T(0));
    if (K == 0 || P == 0 || Mg == 0) return;
    if (conv_uses_shifted_planes(g)) return conv2d_backward_input_shifted<T>(gi, go, w, N, Cout, g, groups);
    const double flops = 2.0 * static_cast<double>(N * Cout) * static_cast<double>(P) * static_cast<double>(K);
    run_tasks<T>(N * groups, flops, pointwise ? 0 : K * rows * g.Wo, [&](std::int64_t t, T* col) {
      const std::int64_t gi_ = t % groups, n = t / groups;
      const T* src = go + (n * Cout + gi_ * Mg) * P;
      const T* wg = w + gi_ * Mg * K;
      T* dst = gi + (n * groups + gi_) * g.C * HW;
      if (pointwise) {  // the column matrix is the input slice itself
        gemm<T>(true, false, K, P, Mg, wg, K, src, P, T(0), dst, P);
        return;
      }
      for (std::int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
        const std::int64_t oh1 = std::min(g.Ho, oh0 + rows), width = (oh1 - oh0) * g.Wo;
        gemm<T>(true, false, K, width, Mg, wg, K, src + oh0 * g.Wo, P, T(0), col, width);
        col2im_rows(col, g, oh0, oh1, dst);
      }
    });
  });
}

// grad_weight: sum over images of G_g * col^T. Each task takes a range of images and all groups
// into a private accumulator; the accumulators are added up at the end.
void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad, const Tensor& input, const ConvGeom& g,
                            std::int64_t groups) {
  dispatch_floating(grad.dtype(), "conv2d_backward_weight", [&]<typename T>() {
    const T* go = grad.data_ptr<T>();
    const T* in = input.data_ptr<T>();
    T* gw = grad_weight.data_ptr<T>();
    const std::int64_t N = input.size(0), Cout = grad_weight.size(0), Mg = Cout / groups;
    const std::int64_t K = g.col_rows(), P = g.col_cols(), HW = g.H * g.W, total = Cout * K;
    const bool pointwise = g.is_pointwise();
    const std::int64_t rows = block_rows<T>(g);
    if (K == 0 || P == 0 || Mg == 0 || N == 0) return (void)std::fill(gw, gw + total, T(0));
    if (conv_uses_shifted_planes(g)) return conv2d_backward_weight_shifted<T>(gw, go, in, N, Cout, g, groups);
    // Accumulates images [n0, n1) into acc (Cout x K).
    const auto images = [&](std::int64_t n0, std::int64_t n1, T* acc, T* col) {
      for (std::int64_t n = n0; n < n1; ++n)
        for (std::int64_t gi_ = 0; gi_ < groups; ++gi_) {
          const T* src = go + (n * Cout + gi_ * Mg) * P;
          const T* im = in + (n * groups + gi_) * g.C * HW;
          T* dst = acc + gi_ * Mg * K;
          if (pointwise) {
            gemm<T>(false, true, Mg, K, P, src, P, im, P, T(1), dst, K);
            continue;
          }
          for (std::int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
            const std::int64_t oh1 = std::min(g.Ho, oh0 + rows), width = (oh1 - oh0) * g.Wo;
            im2col_rows(im, g, oh0, oh1, col);
            gemm<T>(false, true, Mg, K, width, src + oh0 * g.Wo, P, col, width, T(1), dst, K);
          }
        }
    };
    const std::int64_t col_size = pointwise ? 0 : K * rows * g.Wo;
    const double flops = 2.0 * static_cast<double>(N * Cout) * static_cast<double>(P) * static_cast<double>(K);
    conv_detail::sum_over_images<T>(N, flops, col_size, total, gw, images);
  });
}

}  // namespace tapeflow::cpu
