#pragma once
/// @file worker_pool.hpp
/// A fixed set of threads with a bounded queue: where the service runs everything that may block
/// (SQLite, GDAL, kernels), so that network threads never do.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace plumetrace::server {

class WorkerPool {
 public:
  /// Start `threads` threads (>= 1) taking tasks from a queue of at most `max_queued` waiting tasks.
  /// @pre threads >= 1 and max_queued >= 1.
  WorkerPool(int threads, std::size_t max_queued);
  /// Runs the tasks already queued, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queue `task`; false (task dropped) when the queue is full or the pool is stopping. A task
  /// must not throw (exceptions escaping it are swallowed).
  [[nodiscard]] bool try_submit(std::function<void()> task);

  /// Stop taking tasks; the queued ones still run. Idempotent.
  void stop();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::size_t max_queued_;
  bool stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace plumetrace::server
