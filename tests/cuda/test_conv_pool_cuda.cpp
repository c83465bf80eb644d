// conv2d and pooling on cuda:0 against the CPU backend: groups, stride, padding, dilation,
// pointwise kernels and batches larger than one scratch chunk's worth of images are not needed
// for coverage, but odd sizes are; gradients of conv (input, weight, bias) and of every pool
// through backward with the same upstream gradient. Tolerances: float64 1e-10; float32 1e-4
// relative + 1e-4 absolute (GEMM and atomicAdd summation orders differ from the CPU's).
#include <cmath>
#include <vector>

#include "cuda/cuda_grad_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::random_cpu;
using cuda_test::require_close;
using cuda_test::require_same_grads;

namespace {

double rtol_for(DType dtype) { return dtype == kFloat64 ? 1e-10 : 1e-4; }
double atol_for(DType dtype) { return dtype == kFloat64 ? 1e-10 : 1e-4; }

struct ConvCase {
  std::int64_t N, Cin, H, W, Cout, kH, kW;
  std::vector<std::int64_t> stride, padding, dilation;
  std::int64_t groups;
};

const std::vector<ConvCase> kConvCases = {
    {2, 3, 9, 7, 4, 3, 3, {1, 1}, {0, 0}, {1, 1}, 1},  // plain
    {3, 4, 11, 10, 6, 3, 2, {2, 1}, {1, 0}, {1, 2}, 2},  // groups, stride, padding, dilation
    {1, 6, 8, 8, 6, 3, 3, {1, 1}, {1, 1}, {1, 1}, 6},  // depthwise
    {4, 5, 6, 7, 3, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1},  // pointwise (no im2col)
    {2, 2, 13, 5, 3, 5, 1, {3, 2}, {2, 0}, {2, 1}, 1},  // tall kernel, odd stride
    {1, 1, 1, 1, 2, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1},  // 1x1 image
};

}  // namespace

TEST_CASE("cuda conv2d: forward with and without bias over groups/stride/padding/dilation", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64})
    for (const ConvCase& c : kConvCases) {
      INFO(dtype << " input " << c.N << "x" << c.Cin << "x" << c.H << "x" << c.W << " weight " << c.Cout << "x"
                 << c.Cin / c.groups << "x" << c.kH << "x" << c.kW << " groups " << c.groups);
      const Tensor x = random_cpu({c.N, c.Cin, c.H, c.W}, dtype);
      const Tensor w = random_cpu({c.Cout, c.Cin / c.groups, c.kH, c.kW}, dtype), b = random_cpu({c.Cout}, dtype);
      require_close(conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups),
                    conv2d(x.to(kGpu), w.to(kGpu), b.to(kGpu), c.stride, c.padding, c.dilation, c.groups),
                    rtol_for(dtype), atol_for(dtype));
      require_close(conv2d(x, w, Tensor(), c.stride, c.padding, c.dilation, c.groups),
                    conv2d(x.to(kGpu), w.to(kGpu), Tensor(), c.stride, c.padding, c.dilation, c.groups),
                    rtol_for(dtype), atol_for(dtype));
    }
}

TEST_CASE("cuda conv2d: input and weight gradients (col2im gather, per-chunk weight GEMM)", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64})
    for (const ConvCase& c : kConvCases) {
      INFO(dtype << " groups " << c.groups << " k " << c.kH << "x" << c.kW);
      require_same_grads(
          [&](const std::vector<Tensor>& t) {
            return conv2d(t[0], t[1], Tensor(), c.stride, c.padding, c.dilation, c.groups);
          },
          {random_cpu({c.N, c.Cin, c.H, c.W}, dtype), random_cpu({c.Cout, c.Cin / c.groups, c.kH, c.kW}, dtype)},
          {true, true}, rtol_for(dtype), atol_for(dtype));
    }
}

TEST_CASE("cuda conv2d: bias gradient and conv1d", "[cuda]") {
  const ConvCase& c = kConvCases[1];
  require_same_grads(
      [&](const std::vector<Tensor>& t) {
        return conv2d(t[0], t[1], t[2], c.stride, c.padding, c.dilation, c.groups);
      },
      {random_cpu({c.N, c.Cin, c.H, c.W}, kFloat64), random_cpu({c.Cout, c.Cin / c.groups, c.kH, c.kW}, kFloat64),
       random_cpu({c.Cout}, kFloat64)},
      {true, true, true}, 1e-10, 1e-10);
  const Tensor x = random_cpu({2, 4, 19}, kFloat32), w = random_cpu({6, 2, 3}, kFloat32);
  require_close(conv1d(x, w, Tensor(), {2}, {1}, {2}, 2), conv1d(x.to(kGpu), w.to(kGpu), Tensor(), {2}, {1}, {2}, 2),
                1e-4, 1e-4);
}

TEST_CASE("cuda max_pool2d: values, indices (ties, NaN) and gradient", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    INFO(dtype);
    const Tensor x = random_cpu({2, 3, 11, 9}, dtype);
    for (bool ceil_mode : {false, true}) {
      const auto [vc, ic] = max_pool2d_with_indices(x, {3, 2}, {2, 2}, {1, 1}, {1, 2}, ceil_mode);
      const auto [vg, ig] = max_pool2d_with_indices(x.to(kGpu), {3, 2}, {2, 2}, {1, 1}, {1, 2}, ceil_mode);
      require_close(vc, vg, 0, 0);  // a selection: exact
      require_close(ic, ig, 0, 0);
    }
    // Ties keep the first maximum; a NaN wins (the last NaN of the window).
    const double nan = std::nan("");
    const Tensor t = tensor(std::vector<double>{1, 2, 2, 0, 1, nan, 2, 0, 0, 0, 5, nan, nan, 0, 5, 5}, {1, 1, 4, 4}).to(dtype);
    const auto [tc, tic] = max_pool2d_with_indices(t, {2, 2});
    const auto [tg, tig] = max_pool2d_with_indices(t.to(kGpu), {2, 2});
    require_close(tc, tg, 0, 0);
    require_close(tic, tig, 0, 0);
    require_same_grads([](const std::vector<Tensor>& v) { return max_pool2d(v[0], {3, 3}, {2, 2}, {1, 1}); },
                       {x}, {true}, rtol_for(dtype), atol_for(dtype));
    // Overlapping windows share argmaxes: the gradient accumulates (atomicAdd on the GPU).
    require_same_grads([](const std::vector<Tensor>& v) { return max_pool2d(v[0], {3, 3}, {1, 1}); },
                       {random_cpu({1, 2, 6, 6}, dtype)}, {true}, rtol_for(dtype), atol_for(dtype));
    // A window wholly in the padding (dilation 3 and padding 1 over 2 x 2 planes; then along the
    // columns only): -inf with index -1 on both backends, and a zero gradient.
    const Tensor small = random_cpu({2, 3, 2, 2}, dtype), rows = random_cpu({1, 2, 3, 2}, dtype);
    const auto [pc, pic] = max_pool2d_with_indices(small, {2}, {1}, {1}, {3});
    const auto [pg, pig] = max_pool2d_with_indices(small.to(kGpu), {2}, {1}, {1}, {3});
    require_close(pc, pg, 0, 0);
    require_close(pic, pig, 0, 0);
    const auto [rc, ric] = max_pool2d_with_indices(rows, {1, 2}, {1}, {0, 1}, {1, 3});
    const auto [rg, rig] = max_pool2d_with_indices(rows.to(kGpu), {1, 2}, {1}, {0, 1}, {1, 3});
    require_close(rc, rg, 0, 0);
    require_close(ric, rig, 0, 0);
    require_same_grads([](const std::vector<Tensor>& v) { return max_pool2d(v[0], {2}, {1}, {1}, {3}); }, {small},
                       {true}, rtol_for(dtype), atol_for(dtype));
    require_same_grads([](const std::vector<Tensor>& v) { return max_pool2d(v[0], {1, 2}, {1}, {0, 1}, {1, 3}); },
                       {rows}, {true}, rtol_for(dtype), atol_for(dtype));
  }
}

TEST_CASE("cuda avg_pool2d and adaptive_avg_pool2d: values and gradients", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    INFO(dtype);
    const Tensor x = random_cpu({2, 3, 10, 7}, dtype);
    for (bool ceil_mode : {false, true})
      for (bool include_pad : {false, true}) {
        INFO("ceil " << ceil_mode << " count_include_pad " << include_pad);
        require_same_grads(
            [&](const std::vector<Tensor>& v) { return avg_pool2d(v[0], {3, 2}, {2, 2}, {1, 1}, ceil_mode, include_pad); },
            {x}, {true}, rtol_for(dtype), atol_for(dtype));
      }
    for (const std::vector<std::int64_t>& out : {std::vector<std::int64_t>{1, 1}, {3, 4}, {7, 5}, {13, 9}}) {
      INFO("adaptive to " << out[0] << "x" << out[1]);
      require_same_grads([&](const std::vector<Tensor>& v) { return adaptive_avg_pool2d(v[0], out); }, {x}, {true},
                         rtol_for(dtype), atol_for(dtype));
    }
  }
}
