// rmsnorm.cu: RMSNorm with the residual add fused in front (x += residual; out = norm(x) * w, the
// output in BF16 for the next GEMM), and the per-head RMSNorm of qwen3's q/k, in place in float32.
#include <cuda_bf16.h>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"
#include "cuda/rmsnorm-kernels.cuh"

namespace olm {
namespace cuda {

// launchers

void launch_rms_norm_residual(float* x, const float* residual, const int32_t* rows, const float* weight,
                              uint16_t* out, int32_t n, int32_t dim, float eps, cudaStream_t stream) {
    if (n <= 0) return;
    const int threads = dim >= 1024 ? 1024 : ((dim + 31) / 32) * 32;
    rms_norm_residual_kernel<<<n, threads, 0, stream>>>(x, residual, rows, weight,
                                                        reinterpret_cast<__nv_bfloat16*>(out), dim, eps);
    check_launch("rms_norm_residual_kernel");
}

void launch_head_rms_norm(float* x, int64_t row_stride, const float* weight, int32_t n_tokens, int32_t n_heads,
                          int32_t head_dim, float eps, cudaStream_t stream) {
    if (n_tokens <= 0) return;
    head_rms_norm_kernel<<<dim3(n_tokens, n_heads), 32, 0, stream>>>(x, row_stride, weight, head_dim, eps);
    check_launch("head_rms_norm_kernel");
}

}  // namespace cuda
}  // namespace olm
