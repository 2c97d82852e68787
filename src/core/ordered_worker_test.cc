// OrderedWorker: jobs done in the order handed over, at most `limit` waiting, the first failure
// stopping everything after it.
#include "core/ordered_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

namespace isms {
namespace {

TEST(OrderedWorker, DoesEveryJobInTheOrderHandedOver) {
  std::vector<int> done;
  OrderedWorker<int> w(4, [&](int& job) {
    done.push_back(job);
    return Status::Ok();
  });
  EXPECT_FALSE(w.started());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(w.Hand(int(i)).ok());
  EXPECT_TRUE(w.started());
  ASSERT_TRUE(w.Stop(/*discard=*/false).ok());
  ASSERT_EQ(done.size(), 10000u);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(done[i], i);
}

TEST(OrderedWorker, KeepsAtMostItsLimitWaiting) {
  std::atomic<int> handed{0}, done{0}, most{0};
  OrderedWorker<int> w(3, [&](int&) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    const int waiting = handed.load() - done.load() - 1;  // besides this one
    if (waiting > most.load()) most = waiting;
    ++done;
    return Status::Ok();
  });
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(w.Hand(int(i)).ok());
    ++handed;
  }
  ASSERT_TRUE(w.Stop(false).ok());
  EXPECT_EQ(done.load(), 200);
  EXPECT_LE(most.load(), 3 + 1);  // the limit, and the one being handed over as it is counted
}

TEST(OrderedWorker, TheFirstFailureDropsTheRestAndIsGivenFromThenOn) {
  std::vector<int> done;
  OrderedWorker<int> w(2, [&](int& job) {
    if (job == 5) return Status::InvalidArgument("job 5 failed");
    done.push_back(job);
    return Status::Ok();
  });
  Status handed;
  int i = 0;
  for (; i < 1000 && handed.ok(); ++i) handed = w.Hand(int(i));
  EXPECT_EQ(handed.code(), StatusCode::kInvalidArgument) << "a later Hand() gives it";
  EXPECT_LT(i, 1000);
  Status stopped = w.Stop(false);
  EXPECT_EQ(stopped.message(), "job 5 failed");
  EXPECT_EQ(done, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(w.Hand(7).code(), StatusCode::kInvalidArgument);
}

TEST(OrderedWorker, StoppingWithDiscardDropsWhatWaits) {
  std::atomic<bool> release{false};
  std::vector<int> done;
  OrderedWorker<int> w(100, [&](int& job) {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::microseconds(50));
    done.push_back(job);
    return Status::Ok();
  });
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(w.Hand(int(i)).ok());
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    release = true;
  });
  ASSERT_TRUE(w.Stop(/*discard=*/true).ok());
  later.join();
  EXPECT_LE(done.size(), 1u) << "at most the job running when it stopped";
  EXPECT_EQ(w.Hand(1).code(), StatusCode::kFailedPrecondition);
}

TEST(OrderedWorker, StoppingBeforeAnyJobStartsNoThread) {
  OrderedWorker<int> w(1, [](int&) { return Status::Ok(); });
  EXPECT_TRUE(w.Stop(false).ok());
  EXPECT_FALSE(w.started());
}

}  // namespace
}  // namespace isms
