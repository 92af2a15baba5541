// bias-add-kernels.cuh: the kernels of bias-add.cu (its launchers stay there), in a header of their own so that
// tests/test-cuda-emulated.cpp compiles the very same kernel bodies for the CPU.
#pragma once

#include <cstdint>

namespace olm {
namespace cuda {

// kernels

// x: [n, dim] f32; bias: [dim].
__global__ void bias_add_kernel(float* x, const float* bias, int64_t total, int32_t dim) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
        x[i] += bias[i % dim];
    }
}

}  // namespace cuda
}  // namespace olm
