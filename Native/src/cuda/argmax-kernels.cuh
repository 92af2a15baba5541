// argmax-kernels.cuh: the kernels of argmax.cu (its launchers stay there), in a header of their own so that
// tests/test-cuda-emulated.cpp compiles the very same kernel bodies for the CPU.
#pragma once

#include <cfloat>

#include "cuda/reduce.cuh"

namespace olm {
namespace cuda {

namespace {

constexpr int kArgmaxThreads = 1024;

__device__ __forceinline__ bool better(float v, int32_t i, float best, int32_t best_i) {
    return v > best || (v == best && i < best_i);
}

}  // namespace

// kernels

// grid: one block per row. logits: [n, vocab] f32; out: [n].
__global__ void argmax_kernel(const float* logits, int32_t* out, int32_t vocab) {
    __shared__ float best_v[kArgmaxThreads / 32];
    __shared__ int32_t best_i[kArgmaxThreads / 32];
    const float* row = logits + int64_t(blockIdx.x) * vocab;
    float v = -FLT_MAX;
    int32_t idx = 0x7fffffff;
    for (int32_t i = threadIdx.x; i < vocab; i += blockDim.x) {
        if (better(row[i], i, v, idx)) {
            v = row[i];
            idx = i;
        }
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, v, offset);
        const int32_t oi = __shfl_xor_sync(0xffffffffu, idx, offset);
        if (better(ov, oi, v, idx)) {
            v = ov;
            idx = oi;
        }
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        best_v[warp] = v;
        best_i[warp] = idx;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < int(blockDim.x >> 5); ++w) {
            if (better(best_v[w], best_i[w], v, idx)) {
                v = best_v[w];
                idx = best_i[w];
            }
        }
        out[blockIdx.x] = idx == 0x7fffffff ? 0 : idx;
    }
}

}  // namespace cuda
}  // namespace olm
