// cuda-emulation.h: just enough of CUDA's execution model, on the CPU, to run a kernel body
// written for the GPU: every CUDA thread of a block is a std::thread, __syncthreads a block
// barrier, __shfl*_sync an exchange through a per-warp slot array between two warp barriers,
// __shared__ a static (blocks run one after another);
// BF16 uses the engine's own conversions. Slow and only for tests: it lets a machine without a
// GPU check a kernel's indexing and arithmetic. Include it before the kernel header; compile with
// -fno-strict-aliasing (kernels reinterpret 16-byte loads).
#pragma once

#include <cmath>
#include <cstdint>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cpu/ops.h"

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
struct float2 {
    float x, y;
};
struct uint4 {
    uint32_t x, y, z, w;
};
struct __nv_bfloat16 {
    uint16_t bits;
};
struct __nv_bfloat162 {
    __nv_bfloat16 x, y;
};

inline float __bfloat162float(__nv_bfloat16 h) { return olm::from_bf16(h.bits); }
inline __nv_bfloat16 __float2bfloat16(float f) { return {olm::to_bf16(f)}; }  // round to nearest even, as CUDA's
inline float2 __bfloat1622float2(__nv_bfloat162 v) { return {__bfloat162float(v.x), __bfloat162float(v.y)}; }
using std::min;
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

namespace cuda_emulation {

class barrier {
public:
    explicit barrier(int n) : n_(n) {}
    void wait() {
        std::unique_lock<std::mutex> lock(m_);
        const uint64_t generation = generation_;
        if (++count_ == n_) {
            count_ = 0;
            ++generation_;
            cv_.notify_all();
            return;
        }
        cv_.wait(lock, [&] { return generation_ != generation; });
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    int n_, count_ = 0;
    uint64_t generation_ = 0;
};

struct block_state {
    std::unique_ptr<barrier> block;
    std::vector<std::unique_ptr<barrier>> warps;
    std::vector<uint32_t> slots;  // [warps * 32]
};
inline block_state* current = nullptr;

template <class T>
T exchange(T v, int source_lane) {
    static_assert(sizeof(T) == 4, "32-bit shuffles only");
    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    current->slots[warp * 32 + lane] = bits;
    current->warps[warp]->wait();
    bits = current->slots[warp * 32 + unsigned(source_lane)];
    current->warps[warp]->wait();
    T out;
    std::memcpy(&out, &bits, 4);
    return out;
}

// Runs body() as every thread of every block of the grid: blocks in order, a block's threads
// concurrently. blockDim.x must be a multiple of 32, y = z = 1.
inline void launch(dim3 grid, dim3 block, const std::function<void()>& body) {
    gridDim = grid;
    blockDim = block;
    const int n = int(block.x);
    for (unsigned z = 0; z < grid.z; ++z) {
        for (unsigned y = 0; y < grid.y; ++y) {
            for (unsigned x = 0; x < grid.x; ++x) {
                block_state state;
                state.block = std::make_unique<barrier>(n);
                for (int w = 0; w < n / 32; ++w) state.warps.push_back(std::make_unique<barrier>(32));
                state.slots.assign(size_t(n), 0);
                current = &state;
                std::vector<std::thread> threads;
                for (int t = 0; t < n; ++t) {
                    threads.emplace_back([&, t] {
                        threadIdx = {unsigned(t), 0, 0};
                        blockIdx = {x, y, z};
                        body();
                    });
                }
                for (auto& th : threads) th.join();
                current = nullptr;
            }
        }
    }
}

}  // namespace cuda_emulation

inline void __syncthreads() { cuda_emulation::current->block->wait(); }
template <class T>
T __shfl_xor_sync(unsigned, T v, int lane_mask) {
    return cuda_emulation::exchange(v, int(threadIdx.x % 32) ^ lane_mask);
}
template <class T>
T __shfl_sync(unsigned, T v, int source_lane) {
    return cuda_emulation::exchange(v, source_lane);
}
