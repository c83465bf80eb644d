#pragma once
// The parameter structs of the kernel interface (kernels/backend.hpp), shared by every backend:
// what the op layer computes once (geometry, masks, batch layouts) and hands to the kernels.
#include <array>
#include <cstdint>
#include <vector>

#include "tapeflow/shape.hpp"

namespace tapeflow::kernels {

// Reductions: reduced[d] says whether input dim d is reduced.
using ReduceMask = std::vector<bool>;

// The number of positions each output of a reduction over `reduced` folds.
inline std::int64_t reduced_count(const Shape& shape, const ReduceMask& reduced) {
  std::int64_t k = 1;
  for (std::size_t d = 0; d < reduced.size(); ++d)
    if (reduced[d]) k *= shape[d];
  return k;
}

// ---- matmul ----
// One operand: the first matrix of the batch, rows and columns strides in elements.
struct GemmOperand {
  void* data = nullptr;
  std::int64_t rs = 0, cs = 0;
};

// Batch dims shared by the three operands (a, b, c): sizes and element strides (0 = broadcast).
// An empty `sizes` means a single GEMM.
struct GemmBatch {
  Shape sizes;
  std::array<Shape, 3> strides;
  std::int64_t count() const;
  // Drops size-1 dims and merges dims that are one constant stride for all three operands.
  void coalesce();
};

// How BLAS can read a rows x cols matrix with strides (rs, cs) without a copy.
struct BlasLayout {
  bool ok = false;
  bool trans = false;     // true: the matrix is stored column-major (pass CblasTrans)
  std::int64_t ld = 1;    // the leading dimension BLAS needs
};
// Inline: every matmul asks it several times, and the tiniest ones feel each call.
inline BlasLayout blas_layout(std::int64_t rows, std::int64_t cols, std::int64_t rs, std::int64_t cs) {
  // Row-major: unit column stride, rows at least `cols` apart (a single row needs no rs).
  const std::int64_t min_rows_ld = cols > 1 ? cols : 1, min_cols_ld = rows > 1 ? rows : 1;
  if (cols <= 1 || cs == 1) {
    const std::int64_t ld = rows <= 1 ? min_rows_ld : rs;
    if (ld >= min_rows_ld) return {true, false, ld};
  }
  // Column-major: unit row stride, columns at least `rows` apart.
  if (rows <= 1 || rs == 1) {
    const std::int64_t ld = cols <= 1 ? min_cols_ld : cs;
    if (ld >= min_cols_ld) return {true, true, ld};
  }
  return {};
}

// ---- conv2d ----
// Geometry of one image plane set: C channels of H x W, kernel kH x kW with stride, padding and
// dilation, giving Ho x Wo outputs. The column matrix is (C*kH*kW) x (Ho*Wo), row-major.
struct ConvGeom {
  std::int64_t C, H, W;
  std::int64_t kH, kW;
  std::int64_t sH, sW, pH, pW, dH, dW;
  std::int64_t Ho, Wo;
  std::int64_t col_rows() const { return C * kH * kW; }
  std::int64_t col_cols() const { return Ho * Wo; }
  // A 1x1 kernel with unit stride and no padding reads the input as its own column matrix.
  bool is_pointwise() const { return kH == 1 && kW == 1 && sH == 1 && sW == 1 && pH == 0 && pW == 0; }
};

// ---- pooling: `planes` contiguous H x W planes (N*C of an NCHW tensor) ----
struct PoolGeom {
  std::int64_t H, W;
  std::int64_t kH, kW, sH, sW, pH, pW, dH, dW;
  std::int64_t Ho, Wo;
};

// ---- class-index losses ----
// An input viewed as (outer, classes, inner) with its class indices, one per (outer, inner)
// position: target element s = o * inner + j goes with input elements (o, c, j).
struct ClassTargets {
  const char* op = "";
  std::int64_t outer = 1, classes = 0, inner = 1;
  Shape target_shape;  // names positions in error messages
  std::int64_t ignore_index = -100;
  double label_smoothing = 0.0;  // cross_entropy only
};

}  // namespace tapeflow::kernels
