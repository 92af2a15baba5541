// rmsnorm-kernels.cuh: the kernels of rmsnorm.cu (its launchers stay there), in a header of their own so that
// tests/test-cuda-emulated.cpp compiles the very same kernel bodies for the CPU.
#pragma once

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

}  // namespace cuda
}  // namespace olm
