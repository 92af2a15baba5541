// embedding.cu: token embedding gather, BF16 table → float32 rows.
#include <cuda_bf16.h>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"
#include "cuda/embedding-kernels.cuh"

namespace olm {
namespace cuda {

// launchers

void launch_embedding(const uint16_t* table, const int32_t* ids, float* out, int32_t n, int32_t hidden,
                      cudaStream_t stream) {
    if (n <= 0) return;
    embedding_kernel<<<n, 256, 0, stream>>>(reinterpret_cast<const __nv_bfloat16*>(table), ids, out, hidden);
    check_launch("embedding_kernel");
}

}  // namespace cuda
}  // namespace olm
