// silu-mul.cu: the SwiGLU activation over the fused gate/up GEMM output, BF16 out for the down GEMM.
#include <cuda_bf16.h>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"

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

// launchers

void launch_silu_mul(const float* gate_up, uint16_t* out, int32_t n, int32_t inter, cudaStream_t stream) {
    const int64_t total = int64_t(n) * inter;
    if (total <= 0) return;
    const int64_t blocks = (total + 255) / 256;
    silu_mul_kernel<<<unsigned(blocks < 65535 ? blocks : 65535), 256, 0, stream>>>(
        gate_up, reinterpret_cast<__nv_bfloat16*>(out), total, inter);
    check_launch("silu_mul_kernel");
}

}  // namespace cuda
}  // namespace olm
