// silu-mul.cu: the SwiGLU activation over the fused gate/up GEMM output, BF16 out for the down GEMM.
#include <cuda_bf16.h>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"
#include "cuda/silu-mul-kernels.cuh"

namespace olm {
namespace cuda {

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
