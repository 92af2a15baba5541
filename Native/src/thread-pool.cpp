#include "thread-pool.h"

#include <cassert>
#include <chrono>
#include <immintrin.h>

namespace olm {

thread_pool::thread_pool(int32_t n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    for (int32_t i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
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

void thread_pool::run_tasks(uint64_t dispatch) {
    const size_t slot = dispatch & 1;
    uint64_t ticket = ticket_.load(std::memory_order_acquire);
    for (;;) {
        if ((ticket >> 32) != (dispatch & 0xffffffffu)) return;  // a later dispatch began
        const int64_t task = static_cast<int64_t>(ticket & 0xffffffffu);
        if (task >= n_tasks_[slot].load(std::memory_order_acquire)) return;
        // The claim succeeds only while the ticket still belongs to `dispatch`; that dispatch
        // cannot end before this task is done, so its fn stays valid while it runs.
        if (!ticket_.compare_exchange_weak(ticket, ticket + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
            continue;
        }
        (*fn_[slot].load(std::memory_order_acquire))(task);
        done_tasks_.fetch_add(1, std::memory_order_release);
        ticket = ticket_.load(std::memory_order_acquire);
    }
}

void thread_pool::parallel_for(int64_t n_tasks, const std::function<void(int64_t)>& fn) {
    if (n_tasks <= 0) return;
    if (n_threads_ == 1 || n_tasks == 1) {
        for (int64_t t = 0; t < n_tasks; ++t) fn(t);
        return;
    }
    assert(n_tasks < (int64_t(1) << 32));
    std::lock_guard<std::mutex> dispatch_lock(dispatch_mutex_);
    const uint64_t dispatch = generation_.load(std::memory_order_relaxed) + 1;
    const size_t slot = dispatch & 1;
    n_tasks_[slot].store(n_tasks, std::memory_order_relaxed);
    fn_[slot].store(&fn, std::memory_order_relaxed);
    done_tasks_.store(0, std::memory_order_relaxed);
    ticket_.store((dispatch & 0xffffffffu) << 32, std::memory_order_release);
    {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        generation_.store(dispatch, std::memory_order_release);
    }
    wake_.notify_all();
    run_tasks(dispatch);
    // Only workers that claimed a task are waited for.
    while (done_tasks_.load(std::memory_order_acquire) != n_tasks) _mm_pause();
}

void thread_pool::worker_loop() {
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
        run_tasks(gen);
    }
}

}  // namespace olm
