// test-thread-pool.cpp: parallel_for runs every task exactly once per dispatch, across many
// back-to-back dispatches of varying size (the case where a late worker could touch a finished
// or a later dispatch), with callers on several threads, and returns only when all are done.
#include "thread-pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace {

TEST(ThreadPool, EveryTaskRunsExactlyOnceOverManyDispatches) {
    for (int32_t threads : {2, 3, 8}) {
        olm::thread_pool pool(threads);
        for (int64_t round = 0; round < 3000; ++round) {
            const int64_t n = 2 + (round * 7919) % 97;  // sizes vary so stale claims would show
            std::vector<std::atomic<int32_t>> runs(static_cast<size_t>(n));
            pool.parallel_for(n, [&](int64_t t) { runs[size_t(t)].fetch_add(1, std::memory_order_relaxed); });
            for (int64_t t = 0; t < n; ++t) ASSERT_EQ(1, runs[size_t(t)].load()) << "threads " << threads << " round " << round << " task " << t;
        }
    }
}

TEST(ThreadPool, ResultsAreVisibleWhenParallelForReturns) {
    olm::thread_pool pool(4);
    std::vector<int64_t> out(4096);
    for (int round = 0; round < 200; ++round) {
        pool.parallel_for(int64_t(out.size()), [&](int64_t t) { out[size_t(t)] = t * round; });
        for (size_t t = 0; t < out.size(); ++t) ASSERT_EQ(int64_t(t) * round, out[t]);
    }
}

TEST(ThreadPool, WaitsForASlowTaskAndRunsTheOthersMeanwhile) {
    olm::thread_pool pool(2);
    std::atomic<int32_t> fast{0};
    auto start = std::chrono::steady_clock::now();
    pool.parallel_for(64, [&](int64_t t) {
        if (t == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        else fast.fetch_add(1);
    });
    EXPECT_EQ(63, fast.load());
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
}

TEST(ThreadPool, CallersOnSeveralThreadsAreSerialised) {
    olm::thread_pool pool(3);
    std::atomic<int64_t> total{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c) {
        callers.emplace_back([&] {
            for (int round = 0; round < 300; ++round) pool.parallel_for(17, [&](int64_t t) { total.fetch_add(t + 1); });
        });
    }
    for (auto& c : callers) c.join();
    EXPECT_EQ(int64_t(4) * 300 * (17 * 18 / 2), total.load());
}

TEST(ThreadPool, ZeroAndOneTaskAndASingleThreadPool) {
    olm::thread_pool pool(1);
    int32_t calls = 0;
    pool.parallel_for(0, [&](int64_t) { ++calls; });
    pool.parallel_for(5, [&](int64_t) { ++calls; });
    EXPECT_EQ(5, calls);
    olm::thread_pool two(2);
    two.parallel_for(1, [&](int64_t t) { calls += int32_t(t) + 1; });
    EXPECT_EQ(6, calls);
}

}  // namespace
