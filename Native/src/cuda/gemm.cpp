#include "cuda/gemm.h"

#include "cuda/cuda-check.h"

namespace olm {
namespace cuda {

void gemm_bf16(cublasHandle_t handle, const uint16_t* x, const uint16_t* w, float* y, int32_t n, int32_t out,
               int32_t in) {
    if (n <= 0) return;
    const float alpha = 1.0f, beta = 0.0f;
    // Column-major view: w row-major [out, in] is w^T column-major [in, out], so
    // y^T [out, n] = (w^T)^T [out, in] · x^T [in, n], and y^T column-major is y row-major [n, out].
    check(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &alpha, w, CUDA_R_16BF, in, x, CUDA_R_16BF, in,
                       &beta, y, CUDA_R_32F, out, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx (bf16 x bf16 -> f32)");
}

}  // namespace cuda
}  // namespace olm
