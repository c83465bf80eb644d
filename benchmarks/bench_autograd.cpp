// Cost of recording (issue 3), beside LibTorch measured in the same run:
//  - a recorded c = a + b on 1-element tensors that require grad
//  - a small forward + backward: y = (a * b + a).sum(); y.backward()
// Run: build/benchmarks/bench_autograd
#include <cstdio>

#include "bench_util.hpp"
#include "tapeflow/tapeflow.hpp"

#ifdef TAPEFLOW_BENCH_LIBTORCH
#include <torch/torch.h>
#endif

namespace tf = tapeflow;

int main() {
  tf::set_num_threads(1);
#ifdef TAPEFLOW_BENCH_LIBTORCH
  torch::set_num_threads(1);
  const char* peer = "LibTorch";
#else
  const char* peer = "(no peer)";
#endif
  std::printf("tapeflow autograd overhead, 1 thread (median of 7 batches). ratio > 1: tapeflow faster.\n");
  bench::header(peer);
  {
    tf::Tensor a = tf::ones({1}).requires_grad_(), b = tf::ones({1}).requires_grad_(), c;
    const double ours = bench::median_seconds([&] { c = a + b; }, 100000) * 1e9;
    double theirs = 0;
#ifdef TAPEFLOW_BENCH_LIBTORCH
    torch::Tensor ta = torch::ones({1}, torch::requires_grad()), tb = torch::ones({1}, torch::requires_grad()), tc;
    theirs = bench::median_seconds([&] { tc = ta + tb; }, 100000) * 1e9;
#endif
    bench::row("recorded add, 1 element", ours, theirs, "ns", false);
  }
  {
    tf::Tensor a = tf::ones({1}).requires_grad_(), b = tf::ones({1}).requires_grad_();
    const double ours = bench::median_seconds([&] {
      tf::Tensor y = (a * b + a).sum();
      y.backward();
    }, 20000) * 1e6;
    double theirs = 0;
#ifdef TAPEFLOW_BENCH_LIBTORCH
    torch::Tensor ta = torch::ones({1}, torch::requires_grad()), tb = torch::ones({1}, torch::requires_grad());
    theirs = bench::median_seconds([&] {
      torch::Tensor y = (ta * tb + ta).sum();
      y.backward();
    }, 20000) * 1e6;
#endif
    bench::row("(a*b + a).sum().backward(), 1 element", ours, theirs, "us", false);
  }
  return 0;
}
