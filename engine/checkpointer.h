// Checkpointer: one background thread that writes the workers' checkpoint batches to the
// StateStore, so a worker's group commits go on while its last checkpoint is written.
// Jobs run one at a time in submission order; a worker has at most one job queued or
// running (it cuts its next checkpoint only after the last one is durable).
//
// Thread-safety: Submit from any thread; the job runs on the checkpointer's thread and
// must be safe to run there (it typically writes a batch and sets an atomic the worker
// polls).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace ordersync {

class Checkpointer {
 public:
  Checkpointer();
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  void Submit(std::function<void()> job);

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mu_)
  bool stop_ = false;                       // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace ordersync
