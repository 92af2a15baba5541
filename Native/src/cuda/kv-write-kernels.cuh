// kv-write-kernels.cuh: the kernels of kv-write.cu (its launchers stay there), in a header of their own so that
// tests/test-cuda-emulated.cpp compiles the very same kernel bodies for the CPU.
#pragma once

#include <cstdint>

namespace olm {
namespace cuda {

// kernels

// grid: one block per token. k, v: token t at k + t * row_stride, [kv_dim]; slot_mapping: [n_tokens];
// k_cache, v_cache: [n_slots, kv_dim] bf16.
__global__ void kv_write_kernel(const float* k, const float* v, int64_t row_stride, const int64_t* slot_mapping,
                                __nv_bfloat16* k_cache, __nv_bfloat16* v_cache, int32_t kv_dim) {
    const int64_t t = blockIdx.x;
    const int64_t slot = slot_mapping[t];
    if (slot < 0) return;  // a padding token
    for (int32_t i = threadIdx.x; i < kv_dim; i += blockDim.x) {
        k_cache[slot * kv_dim + i] = __float2bfloat16(k[t * row_stride + i]);
        v_cache[slot * kv_dim + i] = __float2bfloat16(v[t * row_stride + i]);
    }
}

}  // namespace cuda
}  // namespace olm
