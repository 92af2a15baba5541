// silu-mul-kernels.cuh: the kernels of silu-mul.cu (its launchers stay there), in a header of their own so that
// tests/test-cuda-emulated.cpp compiles the very same kernel bodies for the CPU.
#pragma once

#include <cstdint>

namespace olm {
namespace cuda {

// kernels

// gate_up: [n, 2 * inter] f32 (gate then up); out: [n, inter] bf16.
__global__ void silu_mul_kernel(const float* gate_up, __nv_bfloat16* out, int64_t total, int32_t inter) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t t = i / inter, j = i % inter;
        const float g = gate_up[t * 2 * inter + j];
        const float u = gate_up[t * 2 * inter + inter + j];
        out[i] = __float2bfloat16(g / (1.0f + expf(-g)) * u);
    }
}

}  // namespace cuda
}  // namespace olm
