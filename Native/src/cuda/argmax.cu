// argmax.cu: greedy sampling on the device: the index of each logits row's largest value, the
// smallest index among equal maxima (the host sampler's rule), so only token ids come back.
#include <cfloat>

#include "cuda/cuda-check.h"
#include "cuda/ops.h"
#include "cuda/argmax-kernels.cuh"

namespace olm {
namespace cuda {

// launchers

void launch_argmax(const float* logits, int32_t* out, int32_t n, int32_t vocab, cudaStream_t stream) {
    if (n <= 0) return;
    argmax_kernel<<<n, kArgmaxThreads, 0, stream>>>(logits, out, vocab);
    check_launch("argmax_kernel");
}

}  // namespace cuda
}  // namespace olm
