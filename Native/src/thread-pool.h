// thread-pool.h: persistent worker threads for data-parallel kernels.
//
// A decode step dispatches a few hundred parallel loops, so workers spin briefly on an atomic
// generation counter before sleeping: waking a sleeping thread costs tens of microseconds.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace olm {

class thread_pool {
public:
    explicit thread_pool(int32_t n_threads);
    ~thread_pool();
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    int32_t size() const { return n_threads_; }

    // Calls fn(task) for task in [0, n_tasks), spread over the threads (the caller included);
    // returns when all are done. Not reentrant: one parallel_for at a time per pool.
    void parallel_for(int64_t n_tasks, const std::function<void(int64_t)>& fn);

private:
    void worker_loop(int32_t index);
    void run_tasks();

    int32_t n_threads_;
    std::vector<std::thread> workers_;
    std::mutex dispatch_mutex_;  // serialises callers from different threads
    std::mutex sleep_mutex_;
    std::condition_variable wake_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int64_t> next_task_{0};
    std::atomic<int32_t> active_workers_{0};
    std::atomic<bool> stop_{false};
    int64_t n_tasks_ = 0;
    const std::function<void(int64_t)>* fn_ = nullptr;
};

}  // namespace olm
