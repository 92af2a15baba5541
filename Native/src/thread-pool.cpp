#include "thread-pool.h"

#include <chrono>
#include <immintrin.h>

namespace olm {

thread_pool::thread_pool(int32_t n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    for (int32_t i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

thread_pool::~thread_pool() {
    {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        stop_.store(true);
        generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
}

void thread_pool::run_tasks() {
    for (;;) {
        int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
        if (task >= n_tasks_) break;
        (*fn_)(task);
    }
}

void thread_pool::parallel_for(int64_t n_tasks, const std::function<void(int64_t)>& fn) {
    if (n_tasks <= 0) return;
    if (n_threads_ == 1 || n_tasks == 1) {
        for (int64_t t = 0; t < n_tasks; ++t) fn(t);
        return;
    }
    std::lock_guard<std::mutex> dispatch(dispatch_mutex_);
    fn_ = &fn;
    n_tasks_ = n_tasks;
    next_task_.store(0, std::memory_order_relaxed);
    active_workers_.store(static_cast<int32_t>(workers_.size()), std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    run_tasks();
    while (active_workers_.load(std::memory_order_acquire) != 0) _mm_pause();
    fn_ = nullptr;
}

void thread_pool::worker_loop(int32_t) {
    uint64_t seen = 0;
    for (;;) {
        // Spin ~200 µs for the next dispatch, then sleep until notified.
        auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
        uint64_t gen;
        int spins = 0;
        while ((gen = generation_.load(std::memory_order_acquire)) == seen) {
            _mm_pause();
            if (++spins % 256 == 0 && std::chrono::steady_clock::now() > spin_until) {
                std::unique_lock<std::mutex> lock(sleep_mutex_);
                wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
            }
        }
        seen = gen;
        if (stop_.load()) return;
        run_tasks();
        active_workers_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

}  // namespace olm
