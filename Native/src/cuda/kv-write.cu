// kv-write.cu: stores each token's K and V (float32, rows of the fused QKV output) into its paged
// cache slot as BF16, through the slot mapping the model runner built.
#include <cuda_bf16.h>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"
#include "cuda/kv-write-kernels.cuh"

namespace olm {
namespace cuda {

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
