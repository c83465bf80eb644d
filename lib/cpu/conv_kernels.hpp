#pragma once
// The inner loops of convolution over padded planes (conv_shifted.cpp), vectorised per instruction
// set alongside the elementwise kernels (conv_kernels_simd.hpp, one copy per ISA unit). Each tap of
// a convolution reads every plane at one fixed shift, so a whole convolution is sums over planes
// and taps of shifted planes: these kernels keep a block of outputs in registers through all of
// them, where one GEMM per tap (OpenBLAS) wrote and reread its output for every tap and its
// thin K = channels cost ~10% of peak.
#include <cstdint>

namespace tapeflow::cpu {

// Planes read at per-tap shifts: plane k starts at in + k * stride; tap t reads it from
// + shift[t] (which may be negative).
template <class T>
struct ShiftedPlanes {
  const T* in;
  std::int64_t stride, planes;
  const std::int64_t* shift;
  std::int64_t taps;
};

// The vectors of the widest instruction set hold at most this many T: shifted_sum reads each tap
// up to this many elements past its last output, and shifted_outer's column count is a multiple of it.
template <class T>
inline constexpr std::int64_t kConvLanes = 64 / static_cast<std::int64_t>(sizeof(T));

template <class T>
struct ConvKernels {
  // out[r * ldo + p] = sum over k < planes, t < taps of
  //   w[r * w_row + k * w_plane + w_tap[t]] * in[k * stride + shift[t] + p]
  // for r < rows, p < n (out is overwritten; nothing past p = n - 1 is written). Reads each tap's
  // run up to kConvLanes<T> elements past p = n - 1: the caller leaves finite values there.
  void (*shifted_sum)(const ShiftedPlanes<T>& x, const T* w, std::int64_t w_row, std::int64_t w_plane,
                      const std::int64_t* w_tap, T* out, std::int64_t ldo, std::int64_t rows, std::int64_t n);
  // acc[(k * taps + t) * ld_acc + j] += sum over images i < images and p < n of
  //   g[i * g_image + p * ldg + j] * in[i * in_image + k * stride + shift[t] + p]
  // for j < cols, cols a multiple of kConvLanes<T> (the weight gradient, with g the output gradient
  // transposed to pixel-major rows and j its channel). Each block of acc is read and written once
  // for all the images.
  void (*shifted_outer)(const ShiftedPlanes<T>& x, const T* g, std::int64_t ldg, std::int64_t cols, T* acc,
                        std::int64_t ld_acc, std::int64_t n, std::int64_t images, std::int64_t in_image,
                        std::int64_t g_image);
};

}  // namespace tapeflow::cpu
