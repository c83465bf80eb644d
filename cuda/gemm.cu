// cuBLAS GEMMs (float32/float64) and the tiled GEMM kernel (integers, and k == 0). Every call is queued on the current
// stream of the device that holds C; nothing here synchronises with the host.
#include "gemm.hpp"

#include <climits>
#include <type_traits>

#include "cublas_api.hpp"
#include "cublas_check.hpp"
#include "cublas_handle.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "kernels/gemm_mapping.hpp"
#include "tapeflow/dtype.hpp"

namespace tapeflow::cuda_backend {
namespace {

using kernels::ColumnMajorGemm;
using kernels::GemmBatch;
using kernels::GemmOperand;

// The device that owns an operand's memory (the backend interface passes raw pointers).
int device_of(const void* p) {
  cudaPointerAttributes attr{};
  TAPEFLOW_CUDA_CHECK(cudaPointerGetAttributes(&attr, p));
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
    fail<DeviceError>("matmul", "internal error: GEMM output is not in device memory");
  return attr.device;
}

int blas_int(std::int64_t v) {
  if (v > INT_MAX) fail<ValueError>("matmul", "dimension ", v, " exceeds what cuBLAS can index (", INT_MAX, ")");
  return static_cast<int>(v);
}

cublasOperation_t op(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

// One mapped call (a single GEMM or one strided batch) on matrices first/second/c.
template <class T>
void blas_call(cublasHandle_t h, const ColumnMajorGemm& g, T alpha, const T* first, const T* second, T beta, T* c) {
  const int m = blas_int(g.m), n = blas_int(g.n), k = blas_int(g.k);
  const int ldf = blas_int(g.ld_first), lds = blas_int(g.ld_second), ldc = blas_int(g.ldc);
  const cublasOperation_t tf = op(g.trans_first), ts = op(g.trans_second);
  const CublasApi& api = cublas();
  if (g.count == 1) {
    if constexpr (std::is_same_v<T, float>)
      TAPEFLOW_CUBLAS_CHECK(api.cublasSgemm(h, tf, ts, m, n, k, &alpha, first, ldf, second, lds, &beta, c, ldc));
    else
      TAPEFLOW_CUBLAS_CHECK(api.cublasDgemm(h, tf, ts, m, n, k, &alpha, first, ldf, second, lds, &beta, c, ldc));
    return;
  }
  // cuBLAS takes an int batch count: split larger batches.
  for (std::int64_t b0 = 0; b0 < g.count; b0 += INT_MAX) {
    const int count = static_cast<int>(g.count - b0 < INT_MAX ? g.count - b0 : INT_MAX);
    const T* f = first + b0 * g.stride_first;
    const T* s = second + b0 * g.stride_second;
    T* cc = c + b0 * g.stride_c;
    if constexpr (std::is_same_v<T, float>)
      TAPEFLOW_CUBLAS_CHECK(api.cublasSgemmStridedBatched(h, tf, ts, m, n, k, &alpha, f, ldf, g.stride_first, s, lds,
                                                          g.stride_second, &beta, cc, ldc, g.stride_c, count));
    else
      TAPEFLOW_CUBLAS_CHECK(api.cublasDgemmStridedBatched(h, tf, ts, m, n, k, &alpha, f, ldf, g.stride_first, s, lds,
                                                          g.stride_second, &beta, cc, ldc, g.stride_c, count));
  }
}

template <class T>
void float_gemm(int device, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const GemmOperand& a,
                const GemmOperand& b, T beta, const GemmOperand& c, const GemmBatch& batch) {
  const ColumnMajorGemm g = kernels::column_major_gemm(m, n, k, a, b, c, batch);
  if (!g.ok) fail<ValueError>("gemm", "internal error: operand layout not usable by cuBLAS");
  cublasHandle_t h = cublas_handle(device);
  const T* first = static_cast<const T*>(g.swapped ? b.data : a.data);
  const T* second = static_cast<const T*>(g.swapped ? a.data : b.data);
  T* out = static_cast<T*>(c.data);
  for (std::int64_t o = 0, outer = g.outer_count(); o < outer; ++o) {
    const auto off = g.outer_offsets(o);
    blas_call<T>(h, g, alpha, first + off[0], second + off[1], beta, out + off[2]);
  }
}

// ---- the tiled kernel: integer GEMMs (16 x 16 output tiles through shared memory, unsigned
// wrap-around arithmetic) and, for every dtype, k == 0 (C = beta * C, zeros for beta == 0, NaN
// in C included, without relying on how cuBLAS treats an empty product) ----

// The accumulator: unsigned for integers (wrap-around is defined), T itself for floats.
template <class T, bool = std::is_integral_v<T>>
struct Accumulator {
  using type = T;
};
template <class T>
struct Accumulator<T, true> {
  using type = std::make_unsigned_t<T>;
};

constexpr int kTile = 16;
constexpr int kMaxBatchDims = 8;

// The batch as the kernel walks it: matrix z's offsets in a, b, c.
struct BatchWalk {
  int dims = 0;
  long long sizes[kMaxBatchDims] = {};
  long long strides[kMaxBatchDims][3] = {};
  __host__ __device__ void offsets(long long z, long long off[3]) const {
    off[0] = off[1] = off[2] = 0;
    for (int d = dims - 1; d >= 0; --d) {
      const long long i = z % sizes[d];
      z /= sizes[d];
      for (int o = 0; o < 3; ++o) off[o] += i * strides[d][o];
    }
  }
};

template <class T>
struct TiledGemmArgs {
  long long m, n, k, count;
  T alpha, beta;
  const T* a;
  const T* b;
  T* c;
  long long ars, acs, brs, bcs, crs, ccs;
  BatchWalk batch;
};

template <class T>
__global__ void tiled_gemm_kernel(TiledGemmArgs<T> p) {
  using U = typename Accumulator<T>::type;
  __shared__ U as[kTile][kTile + 1], bs[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const long long tiles_m = (p.m + kTile - 1) / kTile;
  const U ua = static_cast<U>(p.alpha), ub = static_cast<U>(p.beta);
  // Grid-stride over matrices and tile rows (bounds are uniform per block, so the barriers are too).
  for (long long z = blockIdx.z; z < p.count; z += gridDim.z) {
    long long off[3];
    p.batch.offsets(z, off);
    const T* a = p.a + off[0];
    const T* b = p.b + off[1];
    T* c = p.c + off[2];
    for (long long tm = blockIdx.y; tm < tiles_m; tm += gridDim.y) {
      const long long row = tm * kTile + ty, col = static_cast<long long>(blockIdx.x) * kTile + tx;
      U acc = 0;
      for (long long p0 = 0; p0 < p.k; p0 += kTile) {
        as[ty][tx] = row < p.m && p0 + tx < p.k ? static_cast<U>(a[row * p.ars + (p0 + tx) * p.acs]) : U(0);
        bs[ty][tx] = p0 + ty < p.k && col < p.n ? static_cast<U>(b[(p0 + ty) * p.brs + col * p.bcs]) : U(0);
        __syncthreads();
#pragma unroll
        for (int q = 0; q < kTile; ++q) acc += as[ty][q] * bs[q][tx];
        __syncthreads();
      }
      if (row < p.m && col < p.n) {
        T& out = c[row * p.crs + col * p.ccs];
        const U prev = ub == 0 ? U(0) : ub * static_cast<U>(out);  // beta == 0 ignores C, as BLAS
        // k == 0 gives beta * C, as BLAS and the CPU: ua * acc would be inf * 0 = NaN for alpha inf/NaN.
        out = static_cast<T>(p.k == 0 ? prev : ua * acc + prev);
      }
    }
  }
}

template <class T>
void tiled_gemm(std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const GemmOperand& a, const GemmOperand& b,
              T beta, const GemmOperand& c, const GemmBatch& batch, cudaStream_t stream) {
  TiledGemmArgs<T> p{m, n, k, batch.count(), alpha, beta, static_cast<const T*>(a.data), static_cast<const T*>(b.data),
                   static_cast<T*>(c.data), a.rs, a.cs, b.rs, b.cs, c.rs, c.cs, {}};
  if (batch.sizes.size() > static_cast<std::size_t>(kMaxBatchDims))
    fail<ShapeError>("matmul", "integer matmul on CUDA supports at most ", kMaxBatchDims, " non-mergeable batch dims");
  p.batch.dims = static_cast<int>(batch.sizes.size());
  for (std::size_t d = 0; d < batch.sizes.size(); ++d) {
    p.batch.sizes[d] = batch.sizes[d];
    for (std::size_t o = 0; o < 3; ++o) p.batch.strides[d][o] = batch.strides[o][d];
  }
  const long long tiles_n = (n + kTile - 1) / kTile, tiles_m = (m + kTile - 1) / kTile;
  if (tiles_n > INT_MAX) fail<ValueError>("matmul", "dimension ", n, " too large for the CUDA tiled GEMM");
  const dim3 grid(static_cast<unsigned>(tiles_n), static_cast<unsigned>(tiles_m < 65535 ? tiles_m : 65535),
                  static_cast<unsigned>(p.count < 65535 ? p.count : 65535));
  tiled_gemm_kernel<T><<<grid, dim3(kTile, kTile), 0, stream>>>(p);
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void gemm(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, Scalar alpha, const GemmOperand& a,
          const GemmOperand& b, Scalar beta, const GemmOperand& c, GemmBatch batch) {
  if (!batch.sizes.empty()) batch.coalesce();
  if (m == 0 || n == 0 || batch.count() == 0) return;
  const int device = device_of(c.data);
  DeviceGuard guard(device);
  dispatch_numeric(dtype, "matmul", [&]<typename T>() {
    const T al = alpha.to<T>(), be = beta.to<T>();
    if constexpr (std::is_floating_point_v<T>) {
      if (k > 0) {
        float_gemm<T>(device, m, n, k, al, a, b, be, c, batch);
        return;
      }
    }
    tiled_gemm<T>(m, n, k, al, a, b, be, c, batch, current_stream(device));
  });
}

}  // namespace tapeflow::cuda_backend
