// A small fork-join thread pool. Each parallel_for hands one chunk to each worker and runs
// the first chunk itself, then waits; work items are coarse (>= kGrainSize elements).
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

class ThreadPool {
 public:
  explicit ThreadPool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  // Runs task(i) for i in [0, count): i == 0 on the caller, the others on workers.
  void run(int count, const std::function<void(int)>& task) {
    std::unique_lock<std::mutex> lock(run_mutex_);  // one parallel region at a time
    {
      std::lock_guard<std::mutex> guard(mutex_);
      task_ = &task;
      next_index_ = 1;
      task_count_ = count;
      pending_ = count - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    std::exception_ptr caller_error;
    try {
      task(0);
    } catch (...) {
      caller_error = std::current_exception();
    }
    std::unique_lock<std::mutex> guard(mutex_);
    done_.wait(guard, [this] { return pending_ == 0; });
    task_ = nullptr;
    if (caller_error) std::rethrow_exception(caller_error);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && next_index_ < task_count_); });
      if (stopping_) return;
      int index = next_index_++;
      if (next_index_ >= task_count_) seen = generation_;
      const std::function<void(int)>* task = task_;
      lock.unlock();
      std::exception_ptr error;
      try {
        (*task)(index);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error && !error_) error_ = error;
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int)>* task_ = nullptr;
  int next_index_ = 0;
  int task_count_ = 0;
  int pending_ = 0;
  uint64_t generation_ = 0;
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
