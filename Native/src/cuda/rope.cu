// rope.cu: rotary position embedding, rotate_half convention, in place on float32 q or k heads.
// Llama3 rope scaling lives in inv_freq (model.cpp's rope_frequencies), shared with the CPU.
#include "cuda/cuda-check.h"
#include "cuda/ops.h"

namespace olm {
namespace cuda {

// kernels

// grid: (n_tokens, n_heads); threads over the head_dim/2 pairs. x: head (t, h) at
// x + t * row_stride + h * head_dim; positions: [n_tokens]; inv_freq: [head_dim/2].
__global__ void rope_kernel(float* x, int64_t row_stride, const int32_t* positions, const float* inv_freq,
                            int32_t head_dim) {
    float* xh = x + int64_t(blockIdx.x) * row_stride + int64_t(blockIdx.y) * head_dim;
    const int32_t half = head_dim / 2;
    const float pos = float(positions[blockIdx.x]);
    for (int32_t i = threadIdx.x; i < half; i += blockDim.x) {
        // The CPU computes the angle in float32 and takes cosf/sinf of it: so does this (no fast math).
        const float angle = pos * inv_freq[i];
        const float c = cosf(angle), s = sinf(angle);
        const float a = xh[i], b = xh[i + half];
        xh[i] = a * c - b * s;
        xh[i + half] = b * c + a * s;
    }
}

// launchers

void launch_rope(float* x, int64_t row_stride, const int32_t* positions, const float* inv_freq, int32_t n_tokens,
                 int32_t n_heads, int32_t head_dim, cudaStream_t stream) {
    if (n_tokens <= 0) return;
    if (head_dim % 2 != 0 || head_dim > 1024) throw error(ORLEANSLLM_ERR_UNSUPPORTED, "rope: head_dim must be even and <= 1024");
    const int threads = head_dim / 2 < 32 ? 32 : head_dim / 2;
    rope_kernel<<<dim3(n_tokens, n_heads), threads, 0, stream>>>(x, row_stride, positions, inv_freq, head_dim);
    check_launch("rope_kernel");
}

}  // namespace cuda
}  // namespace olm
