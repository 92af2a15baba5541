// thread-pool.h: persistent worker threads for data-parallel kernels.
//
// A decode step dispatches a few hundred parallel loops, so workers spin briefly on an atomic
// generation counter before sleeping: waking a sleeping thread costs tens of microseconds.
//
// Tasks are claimed from one atomic ticket (dispatch number << 32 | next task), and a dispatch
// ends when all its tasks are done, not when every worker has checked in: on a machine with more
// runnable threads than cores (a shared CI box, neighbours) a worker descheduled before it claimed
// anything would otherwise stall every one of those few hundred loops for a scheduler time slice.
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
    // returns when all are done. n_tasks < 2^32. Not reentrant: one parallel_for at a time per
    // pool (callers from different threads are serialised).
    void parallel_for(int64_t n_tasks, const std::function<void(int64_t)>& fn);

private:
    using task_fn = std::function<void(int64_t)>;

    void worker_loop();
    // Claims and runs tasks of dispatch `dispatch` until none is left or another dispatch began.
    void run_tasks(uint64_t dispatch);

    int32_t n_threads_;
    std::vector<std::thread> workers_;
    std::mutex dispatch_mutex_;  // serialises callers from different threads
    std::mutex sleep_mutex_;
    std::condition_variable wake_;
    std::atomic<uint64_t> generation_{0};  // wakes workers; equals the current dispatch number
    std::atomic<uint64_t> ticket_{0};      // dispatch << 32 | next task index
    std::atomic<int64_t> done_tasks_{0};   // tasks of the current dispatch that have finished
    // Per dispatch parity: a worker holding a stale ticket reads the slot of its own dispatch,
    // which is rewritten only two dispatches later, when its claim can no longer succeed.
    std::atomic<int64_t> n_tasks_[2] = {0, 0};
    std::atomic<const task_fn*> fn_[2] = {nullptr, nullptr};
    std::atomic<bool> stop_{false};
};

}  // namespace olm
