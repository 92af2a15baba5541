// rope.cu: rotary position embedding, rotate_half convention, in place on float32 q or k heads.
// Llama3 rope scaling lives in inv_freq (model.cpp's rope_frequencies), shared with the CPU.
#include "cuda/cuda-check.h"
#include "cuda/ops.h"
#include "cuda/rope-kernels.cuh"

namespace olm {
namespace cuda {

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
