// rope-kernels.cuh: the kernels of rope.cu (its launchers stay there), in a header of their own so that
// tests/test-cuda-emulated.cpp compiles the very same kernel bodies for the CPU.
#pragma once

#include <cstdint>

namespace olm {
namespace cuda {

// kernels

// grid: (n_tokens, n_heads); threads over the head_dim/2 pairs. x: head (t, h) at
// x + t * row_stride + h * head_dim; positions: [n_tokens]; inv_freq: [head_dim/2].
__global__ void rope_kernel(float* x, int64_t row_stride, const int32_t* positions, const float* inv_freq,
                            int32_t head_dim) {
    float* xh = x + int64_t(blockIdx.x) * row_stride + int64_t(blockIdx.y) * head_dim;
    const int32_t half = head_dim / 2;
    const float pos = float(positions[blockIdx.x]);
    for (int32_t i = threadIdx.x; i < half; i += blockDim.x) {
        // The CPU computes the angle in float32 and takes cosf/sinf of it: so does this (no fast math).
        const float angle = pos * inv_freq[i];
        const float c = cosf(angle), s = sinf(angle);
        const float a = xh[i], b = xh[i + half];
        xh[i] = a * c - b * s;
        xh[i + half] = b * c + a * s;
    }
}

}  // namespace cuda
}  // namespace olm
