// kv-write.cu: stores each token's K and V (float32, rows of the fused QKV output) into its paged
// cache slot as BF16, through the slot mapping the model runner built.
#include <cuda_bf16.h>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"

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

// launchers

void launch_kv_write(const float* k, const float* v, int64_t row_stride, const int64_t* slot_mapping,
                     uint16_t* k_cache, uint16_t* v_cache, int32_t n_tokens, int32_t kv_dim, cudaStream_t stream) {
    if (n_tokens <= 0) return;
    kv_write_kernel<<<n_tokens, 256, 0, stream>>>(k, v, row_stride, slot_mapping,
                                                   reinterpret_cast<__nv_bfloat16*>(k_cache),
                                                   reinterpret_cast<__nv_bfloat16*>(v_cache), kv_dim);
    check_launch("kv_write_kernel");
}

}  // namespace cuda
}  // namespace olm
