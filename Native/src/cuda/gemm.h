// gemm.h: the backend's one matrix product, through cuBLAS: BF16 inputs, float32 accumulation
// and output (the residual stream and the pre-activation values stay in float32).
#pragma once

#include <cublas_v2.h>

#include <cstdint>

namespace olm {
namespace cuda {

// y[n, out] f32 = x[n, in] bf16 · w[out, in]^T bf16 (both row-major, as the checkpoint stores w).
// Runs on the stream the handle is bound to.
void gemm_bf16(cublasHandle_t handle, const uint16_t* x, const uint16_t* w, float* y, int32_t n, int32_t out,
               int32_t in);

}  // namespace cuda
}  // namespace olm
