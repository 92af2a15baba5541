// bias-add.cu: adds a bias row to every row (qwen2's q/k/v biases, llama's attention_bias).
#include "cuda/cuda-check.h"
#include "cuda/ops.h"
#include "cuda/bias-add-kernels.cuh"

namespace olm {
namespace cuda {

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
