// A small fork-join thread pool. Each parallel_for splits the range into one chunk per
// thread; the caller and the workers claim chunks, and the caller waits for the last one.
// Work items are coarse (>= kGrainSize elements).
#include "vt/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "vt/error.h"

namespace vt {

namespace {

// One parallel region: its task and its own counters. A worker that wakes late still holds
// the region it woke for, so it can only claim that region's indices (all taken by then) and
// never an index of the next region. (With shared counters, a late worker's claim against the
// old counter, checked against the new region's count, ran a task twice and lost a completion:
// a hang or a crash, seen with 16 threads.)
struct Region {
  const std::function<void(int)>* task;
  int count;
  std::atomic<int> next_index{0};
  std::atomic<int> pending;
  std::mutex error_mutex;
  std::exception_ptr error;

  Region(const std::function<void(int)>* task, int count) : task(task), count(count), pending(count) {}

  // Claims and runs indices until none is left. `task` is only dereferenced for a claimed
  // index, so a region whose caller has returned (everything claimed) is never run.
  void claim_and_run() {
    while (true) {
      const int index = next_index.fetch_add(1, std::memory_order_acq_rel);
      if (index >= count) return;
      try {
        (*task)(index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
      pending.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
};

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
    std::unique_lock<std::mutex> one_region_at_a_time(run_mutex_);
    auto region = std::make_shared<Region>(&task, count);
    {
      std::lock_guard<std::mutex> lock(mutex_);  // orders the publish against sleepers' checks
      region_ = region;
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) wake_.notify_all();
    region->claim_and_run();
    while (region->pending.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      region_.reset();  // late workers find no region rather than a finished one
    }
    if (region->error) std::rethrow_exception(region->error);
  }

 private:
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
      std::shared_ptr<Region> region;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!woke) {
          sleeping_.fetch_add(1, std::memory_order_acq_rel);
          wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
          sleeping_.fetch_sub(1, std::memory_order_acq_rel);
        }
        seen = generation_.load(std::memory_order_acquire);
        if (stopping_) return;
        region = region_;
      }
      if (region) region->claim_and_run();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex run_mutex_;
  std::mutex mutex_;  // guards region_ and stopping_, and the sleepers' wait
  std::condition_variable wake_;
  std::shared_ptr<Region> region_;
  std::atomic<int> sleeping_{0};
  std::atomic<uint64_t> generation_{0};
  bool stopping_ = false;
};

// The pool's size: VT_NUM_THREADS when set (like OMP_NUM_THREADS for torch; also how tests
// run a pool wider than the machine), else the hardware threads. Read once:
// hardware_concurrency() reads /sys on every call (microseconds).
int hardware_threads() {
  static const int count = [] {
    if (const char* configured = std::getenv("VT_NUM_THREADS")) {
      const int n = std::atoi(configured);
      if (n > 0) return n;
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }();
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
