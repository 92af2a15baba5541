// embedding-kernels.cuh: the kernels of embedding.cu (its launchers stay there), in a header of their own so that
// tests/test-cuda-emulated.cpp compiles the very same kernel bodies for the CPU.
#pragma once

#include <cstdint>

namespace olm {
namespace cuda {

// kernels

// grid: one block per token. table: [vocab, hidden] bf16; ids: [n]; out: [n, hidden] f32.
__global__ void embedding_kernel(const __nv_bfloat16* table, const int32_t* ids, float* out, int32_t hidden) {
    const int64_t t = blockIdx.x;
    const __nv_bfloat16* row = table + int64_t(ids[t]) * hidden;
    for (int32_t i = threadIdx.x; i < hidden; i += blockDim.x) out[t * hidden + i] = __bfloat162float(row[i]);
}

}  // namespace cuda
}  // namespace olm
