// The thread pool behind parallel_for: num_threads - 1 workers plus the calling thread.
// OpenBLAS is kept at one thread while our pool runs and gets all threads for a lone GEMM
// (see linalg), so the two pools never oversubscribe the cores.
#include "core/parallel.hpp"
#include "core/fast_tls.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "tapeflow/error.hpp"

namespace tapeflow {
namespace detail {
namespace {

TAPEFLOW_FAST_TLS thread_local bool t_in_region = false;

class ThreadPool {
 public:
  explicit ThreadPool(int threads) { resize(threads); }
  ~ThreadPool() { stop_workers(); }

  int threads() const { return threads_; }

  void resize(int threads) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    stop_workers();
    threads_ = threads;
    stop_ = false;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  void run(std::int64_t tasks, const std::function<void(std::int64_t)>& fn) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);  // one parallel region at a time
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      tasks_ = tasks;
      next_.store(0);
      pending_ = tasks;
      ++generation_;
    }
    cv_.notify_all();
    work_on_job(fn);
    spin_until_done();
    std::unique_lock<std::mutex> lock(mutex_);
    // Also wait for every worker that picked up this job, so none can touch fn after we return.
    done_cv_.wait(lock, [this] { return pending_ == 0 && active_ == 0; });
    job_ = nullptr;
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

 private:
  void work_on_job(const std::function<void(std::int64_t)>& fn) {
    t_in_region = true;
    std::int64_t done = 0;
    for (std::int64_t i; (i = next_.fetch_add(1)) < tasks_;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      ++done;
    }
    t_in_region = false;
    if (done) {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_ -= done;
      if (pending_ == 0) done_cv_.notify_all();
    }
  }

  // Idle workers poll this long before sleeping: ops run back to back, and a condition variable's
  // wake-up (tens of microseconds on this VM) would otherwise be paid by every parallel op.
  static constexpr std::chrono::microseconds kSpin{50};

  void spin_for_job(std::uint64_t seen) const {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed)) {
      // yield, not a pause loop: on a busy 2-vCPU VM a pause loop took the caller's core
      // (256K-element adds at 2 threads: 34 -> 48 us); yielding gave 32-34 us.
      std::this_thread::yield();
      if (std::chrono::steady_clock::now() >= deadline) return;
    }
  }

  // The caller, its own share done, polls a while before sleeping on done_cv_: waking from a
  // condition variable costs tens of microseconds on this VM, which every parallel op paid
  // whenever a worker finished last (exp on 256K floats: 27 us on 1 thread, 31-35 us on 2).
  void spin_until_done() const {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    while (pending_.load(std::memory_order_acquire) != 0 || active_.load(std::memory_order_acquire) != 0) {
      std::this_thread::yield();
      if (std::chrono::steady_clock::now() >= deadline) return;
    }
  }

  void worker_loop() {
    std::uint64_t seen = 0;
    for (;;) {
      spin_for_job(seen);
      const std::function<void(std::int64_t)>* job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || (generation_ != seen && job_ != nullptr); });
        if (stop_) return;
        seen = generation_;
        job = job_;
        ++active_;
      }
      work_on_job(*job);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0) done_cv_.notify_all();
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_, mutex_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(std::int64_t)>* job_ = nullptr;
  std::int64_t tasks_ = 0;
  std::atomic<std::int64_t> next_{0};
  // Written under mutex_; atomic so that spinning threads may read them without it.
  std::atomic<std::int64_t> pending_{0}, active_{0};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
};

int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

std::atomic<int> g_num_threads{default_threads()};

ThreadPool& pool() {
  static ThreadPool* p = new ThreadPool(g_num_threads.load());  // leaked: outlives static dtors
  return *p;
}

}  // namespace

void run_parallel(std::int64_t tasks, const std::function<void(std::int64_t)>& fn) {
  ThreadPool& p = pool();
  if (p.threads() != g_num_threads.load()) p.resize(g_num_threads.load());
  p.run(tasks, fn);
}

bool in_parallel_region() { return t_in_region; }

}  // namespace detail

void set_num_threads(int n) {
  if (n < 1) fail<ValueError>("set_num_threads", "need at least 1 thread, got ", n);
  detail::g_num_threads.store(n);
}

int get_num_threads() { return detail::g_num_threads.load(); }

}  // namespace tapeflow
