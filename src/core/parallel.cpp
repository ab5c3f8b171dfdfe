// A small fork-join thread pool. Each parallel_for splits the range into one chunk per
// thread; the caller and the workers claim chunks, and the caller waits for the last one.
// Work items are coarse (>= kGrainSize elements).
#include "vt/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "vt/error.h"

namespace vt {

namespace {

// Workers spin briefly on an atomic generation counter before sleeping on a condition
// variable: waking a sleeping thread costs tens of microseconds on some machines, more than
// a whole medium-sized op, and ops tend to come in bursts.
class ThreadPool {
 public:
  explicit ThreadPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  // Runs task(i) for i in [0, count): the caller and the workers claim indices until none is left.
  void run(int count, const std::function<void(int)>& task) {
    std::unique_lock<std::mutex> region(run_mutex_);  // one parallel region at a time
    // A worker still leaving the previous region may claim from next_index_ as soon as it is
    // reset: everything it reads is published before that release store.
    task_ = &task;
    task_count_ = count;
    error_ = nullptr;
    pending_.store(count, std::memory_order_relaxed);
    next_index_.store(0, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(mutex_);  // orders the publish against sleepers' checks
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) wake_.notify_all();
    claim_and_run();
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    task_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void claim_and_run() {
    while (true) {
      int index = next_index_.fetch_add(1, std::memory_order_acq_rel);
      if (index >= task_count_) return;
      try {
        (*task_)(index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  void work() {
    uint64_t seen = generation_.load(std::memory_order_acquire);
    constexpr int kSpins = 4000;  // about 10-20 microseconds: long enough for a burst of ops, short enough
                                  // not to compete with BLAS threads that run next
    while (true) {
      bool woke = false;
      for (int i = 0; i < kSpins; ++i) {
        if (generation_.load(std::memory_order_acquire) != seen) {
          woke = true;
          break;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
      if (!woke) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleeping_.fetch_add(1, std::memory_order_acq_rel);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        sleeping_.fetch_sub(1, std::memory_order_acq_rel);
      }
      seen = generation_.load(std::memory_order_acquire);
      if (stopping_) return;
      if (task_ != nullptr) claim_and_run();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void(int)>* task_ = nullptr;
  int task_count_ = 0;
  std::atomic<int> next_index_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<uint64_t> generation_{0};
  bool stopping_ = false;
  std::exception_ptr error_;
};

// hardware_concurrency() reads /sys on every call (microseconds): ask once.
int hardware_threads() {
  static const int count = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return count;
}

std::atomic<int> g_num_threads{0};
thread_local bool t_in_parallel_region = false;

ThreadPool& pool() {
  // Sized for the machine once; set_num_threads can only use fewer.
  static ThreadPool* instance = new ThreadPool(hardware_threads() - 1);
  return *instance;
}

}  // namespace

int num_threads() {
  int n = g_num_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : hardware_threads();
}

void set_num_threads(int n) {
  VT_CHECK_VALUE(n > 0, "set_num_threads(): expected a positive number of threads, got ", n);
  g_num_threads.store(n, std::memory_order_relaxed);
}

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (begin >= end) return;
  int64_t range = end - begin;
  int64_t chunks = std::min<int64_t>({num_threads(), pool().workers() + 1, (range + grain - 1) / std::max<int64_t>(grain, 1)});
  if (chunks <= 1 || t_in_parallel_region) {
    fn(begin, end);
    return;
  }
  int64_t chunk = (range + chunks - 1) / chunks;
  pool().run(static_cast<int>(chunks), [&](int i) {
    int64_t lo = begin + i * chunk;
    int64_t hi = std::min(end, lo + chunk);
    if (lo >= hi) return;
    t_in_parallel_region = true;
    try {
      fn(lo, hi);
    } catch (...) {
      t_in_parallel_region = false;
      throw;
    }
    t_in_parallel_region = false;
  });
}

}  // namespace vt
