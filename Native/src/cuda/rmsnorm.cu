// rmsnorm.cu: RMSNorm with the residual add fused in front (x += residual; out = norm(x) * w, the
// output in BF16 for the next GEMM), and the per-head RMSNorm of qwen3's q/k, in place in float32.
#include <cuda_bf16.h>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace olm {
namespace cuda {

// kernels

// grid: one block per output row. x: [*, dim] f32; residual: [*, dim] f32 or null; rows: [n] or
// null; weight: [dim]; out: [n, dim] bf16.
__global__ void rms_norm_residual_kernel(float* x, const float* residual, const int32_t* rows, const float* weight,
                                         __nv_bfloat16* out, int32_t dim, float eps) {
    __shared__ float scratch[32];
    const int64_t i = blockIdx.x;
    const int64_t r = rows != nullptr ? rows[i] : i;
    float* xr = x + r * dim;
    float sum_sq = 0.0f;
    for (int32_t d = threadIdx.x; d < dim; d += blockDim.x) {
        float v = xr[d];
        if (residual != nullptr) {
            v += residual[r * dim + d];
            xr[d] = v;
        }
        sum_sq += v * v;
    }
    const float inv = rsqrtf(block_sum(sum_sq, scratch) / float(dim) + eps);
    for (int32_t d = threadIdx.x; d < dim; d += blockDim.x) out[i * dim + d] = __float2bfloat16(xr[d] * inv * weight[d]);
}

// grid: (n_tokens, n_heads), one warp each. x: head (t, h) at x + t * row_stride + h * head_dim.
__global__ void head_rms_norm_kernel(float* x, int64_t row_stride, const float* weight, int32_t head_dim, float eps) {
    float* xh = x + int64_t(blockIdx.x) * row_stride + int64_t(blockIdx.y) * head_dim;
    float sum_sq = 0.0f;
    for (int32_t d = threadIdx.x; d < head_dim; d += 32) sum_sq += xh[d] * xh[d];
    const float inv = rsqrtf(warp_sum(sum_sq) / float(head_dim) + eps);
    for (int32_t d = threadIdx.x; d < head_dim; d += 32) xh[d] = xh[d] * inv * weight[d];
}

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
