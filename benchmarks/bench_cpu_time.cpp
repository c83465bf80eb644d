// CPU-time medians (this process's CPU seconds, not wall clock) of the one-thread workloads that
// the per-instruction-set kernels changed: on a shared, oversubscribed VM the wall-clock tables of
// the other programs vary 2-3x run to run, while a process's own CPU time is not stretched by other
// processes' time slices (memory stalls still count). No peers: compare two builds with it.
// Run: build/benchmarks/bench_cpu_time [ew|l1|layers|train|all]
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <vector>
#include "tapeflow/tapeflow.hpp"
namespace tf = tapeflow;
namespace nn = tapeflow::nn;
namespace F = tapeflow::nn::functional;
// CPU seconds used by this process so far.
static double cpu_now() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}
// Median over 9 batches of reps calls (after 3 warm-up calls); bytes > 0 adds a rate.
static void time_it(const char* name, int reps, const std::function<void()>& f, double bytes = 0) {
  for (int i = 0; i < 3; ++i) f();
  std::vector<double> s;
  for (int k = 0; k < 9; ++k) {
    const double t0 = cpu_now();
    for (int i = 0; i < reps; ++i) f();
    s.push_back((cpu_now() - t0) / reps);
  }
  std::sort(s.begin(), s.end());
  const double m = s[s.size() / 2];
  if (bytes > 0) std::printf("%-28s %9.1f us  %6.1f GB/s(cpu)\n", name, m * 1e6, bytes / m / 1e9);
  else std::printf("%-28s %9.1f us\n", name, m * 1e6);
}
int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "all";
  tf::set_num_threads(1);
  if (what == "all" || what == "ew") {
    const std::int64_t n = 16 << 20;
    tf::Tensor a = tf::rand({n}) * 4 - 2, b = tf::rand({n}), c = tf::empty({n});
    time_it("add fresh", 5, [&] { c = a + b; }, 12.0 * n);
    time_it("exp fresh", 5, [&] { c = tf::exp(a); }, 8.0 * n);
    time_it("exp_out", 5, [&] { tf::exp_out(c, a); }, 8.0 * n);
  }
  if (what == "all" || what == "ew" || what == "l1") {
    const std::int64_t n = 4096;  // in L1: the exp loop's compute rate
    tf::Tensor a = tf::rand({n}) * 4 - 2, c = tf::empty({n});
    time_it("exp_out 4096 (in cache)", 20000, [&] { tf::exp_out(c, a); }, 8.0 * n);
    time_it("sigmoid 4096 (in cache)", 20000, [&] { c = tf::sigmoid(a); }, 8.0 * n);
  }
  if (what == "all" || what == "layers") {
    tf::NoGradGuard no_grad;
    const auto u = [](tf::IntArrayRef shape) { return tf::rand(shape) * 2 - 1; };
    const tf::Tensor logits = u({256, 1000}), target = tf::randint(0, 1000, {256});
    time_it("softmax (256,1000)", 50, [&] { tf::bench::do_not_optimize(tf::softmax(logits, -1)); });
    time_it("cross_entropy (256,1000)", 50, [&] { tf::bench::do_not_optimize(F::cross_entropy(logits, target)); });
    const tf::Tensor h = u({256, 1024}), gamma = u({1024}), beta = u({1024});
    time_it("layer_norm (256,1024)", 50, [&] { tf::bench::do_not_optimize(tf::layer_norm(h, {1024}, gamma, beta, 1e-5)); });
  }
  if (what == "all" || what == "layers") {
    const tf::Tensor logits = (tf::rand({256, 1000}) * 2 - 1).requires_grad_(), target = tf::randint(0, 1000, {256});
    time_it("CE fwd+bwd (256,1000)", 50, [&] { logits.set_grad({}); F::cross_entropy(logits, target).backward(); });
  }
  if (what == "all" || what == "train") {
    for (std::int64_t batch : {32, 256}) {
      nn::Sequential mlp(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
      tf::optim::Adam adam(mlp->parameters(), {.lr = 1e-3});
      const tf::Tensor x = tf::rand({batch, 784}), y = tf::randint(0, 10, {batch});
      time_it(batch == 32 ? "MLP Adam step b32" : "MLP Adam step b256", 20, [&] {
        adam.zero_grad();
        F::cross_entropy(mlp->forward(x), y).backward();
        adam.step();
      });
      if (batch == 256) time_it("  Adam step alone b256", 50, [&] { adam.step(); });
    }
  }
}
