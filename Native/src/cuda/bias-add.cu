// bias-add.cu: adds a bias row to every row (qwen2's q/k/v biases, llama's attention_bias).
#include "cuda/cuda-check.h"
#include "cuda/ops.h"

namespace olm {
namespace cuda {

// kernels

// x: [n, dim] f32; bias: [dim].
__global__ void bias_add_kernel(float* x, const float* bias, int64_t total, int32_t dim) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
        x[i] += bias[i % dim];
    }
}

// launchers

void launch_bias_add(float* x, const float* bias, int32_t n, int32_t dim, cudaStream_t stream) {
    const int64_t total = int64_t(n) * dim;
    if (total <= 0) return;
    const int64_t blocks = (total + 255) / 256;
    bias_add_kernel<<<unsigned(blocks < 65535 ? blocks : 65535), 256, 0, stream>>>(x, bias, total, dim);
    check_launch("bias_add_kernel");
}

}  // namespace cuda
}  // namespace olm
