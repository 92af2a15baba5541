// embedding.cu: token embedding gather, BF16 table → float32 rows.
#include <cuda_bf16.h>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"

namespace olm {
namespace cuda {

// kernels

// grid: one block per token. table: [vocab, hidden] bf16; ids: [n]; out: [n, hidden] f32.
__global__ void embedding_kernel(const __nv_bfloat16* table, const int32_t* ids, float* out, int32_t hidden) {
    const int64_t t = blockIdx.x;
    const __nv_bfloat16* row = table + int64_t(ids[t]) * hidden;
    for (int32_t i = threadIdx.x; i < hidden; i += blockDim.x) out[t * hidden + i] = __bfloat162float(row[i]);
}

// launchers

void launch_embedding(const uint16_t* table, const int32_t* ids, float* out, int32_t n, int32_t hidden,
                      cudaStream_t stream) {
    if (n <= 0) return;
    embedding_kernel<<<n, 256, 0, stream>>>(reinterpret_cast<const __nv_bfloat16*>(table), ids, out, hidden);
    check_launch("embedding_kernel");
}

}  // namespace cuda
}  // namespace olm
