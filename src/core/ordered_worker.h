// A second thread that handles jobs in the order they are handed over: the bulk writers' stepping
// and sending, an import's clock evaluation, the decoding of a long read of events. At most
// `limit` jobs wait, so the hand-over waits for room and memory stays bounded. The first job that
// fails stops the worker: the jobs waiting are dropped, and every later Hand() and Stop() give
// that failure.
//
// Thread-safety: Hand() and Stop() from one thread at a time (the owner's); the work function
// runs on the worker's thread, one job at a time, and must not call back into the worker.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "core/status.h"

namespace isms {

template <class Job>
class OrderedWorker {
 public:
  // `work` handles one job; the thread starts with the first job handed over.
  OrderedWorker(std::size_t limit, std::function<Status(Job&)> work)
      : limit_(limit), work_(std::move(work)) {}
  ~OrderedWorker() { (void)Stop(/*discard=*/true); }
  OrderedWorker(const OrderedWorker&) = delete;
  OrderedWorker& operator=(const OrderedWorker&) = delete;

  // Queues `job`, waiting while `limit` jobs wait already. Gives the worker's first failure,
  // if any (`job` is then dropped).
  Status Hand(Job&& job) {
    std::unique_lock lock(mu_);
    if (!thread_.joinable() && !stopped_) thread_ = std::thread([this] { Run(); });
    changed_.wait(lock, [&] { return queue_.size() < limit_ || !failed_.ok() || stopped_; });
    if (!failed_.ok()) return failed_;
    if (stopped_) return Status::FailedPrecondition("the worker has stopped");
    queue_.push_back(std::move(job));
    changed_.notify_all();
    return Status::Ok();
  }

  // Waits for the jobs handed over to be done (with `discard`, only the one running) and ends
  // the thread. Gives the first failure.
  Status Stop(bool discard) {
    std::unique_lock lock(mu_);
    if (discard) queue_.clear();
    stopped_ = true;
    changed_.notify_all();
    if (thread_.joinable()) {
      lock.unlock();
      thread_.join();
      lock.lock();
    }
    return failed_;
  }

  // True once a job has been handed over (the thread is running or was).
  bool started() const {
    std::lock_guard lock(mu_);
    return thread_.joinable();
  }

 private:
  void Run() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mu_);
        changed_.wait(lock, [&] { return !queue_.empty() || stopped_; });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      changed_.notify_all();
      Status s = work_(job);
      if (!s.ok()) {
        std::lock_guard lock(mu_);
        failed_ = std::move(s);
        queue_.clear();
        changed_.notify_all();
        return;
      }
    }
  }

  const std::size_t limit_;
  std::function<Status(Job&)> work_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Job> queue_;
  bool stopped_ = false;
  Status failed_;  // the first failure of a job
  std::thread thread_;
};

}  // namespace isms
