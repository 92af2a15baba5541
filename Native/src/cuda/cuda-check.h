// cuda-check.h: CUDA and cuBLAS results turned into olm::error (the engine's exceptions), so that a
// failing launch or allocation reaches the C API as a status code and a message, never a crash.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>

#include "status.h"

namespace olm {
namespace cuda {

inline void check(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return;
    const int32_t status = e == cudaErrorMemoryAllocation ? ORLEANSLLM_ERR_OUT_OF_MEMORY : ORLEANSLLM_ERR_INTERNAL;
    throw error(status, std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

inline void check(cublasStatus_t s, const char* what) {
    if (s == CUBLAS_STATUS_SUCCESS) return;
    const int32_t status = s == CUBLAS_STATUS_ALLOC_FAILED ? ORLEANSLLM_ERR_OUT_OF_MEMORY : ORLEANSLLM_ERR_INTERNAL;
    throw error(status, std::string("cuBLAS: ") + what + ": status " + std::to_string(int(s)));
}

// After a kernel launch: a bad configuration shows up here (execution errors at the next sync).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

}  // namespace cuda
}  // namespace olm
