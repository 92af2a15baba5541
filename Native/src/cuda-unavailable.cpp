// cuda-unavailable.cpp: the CUDA entry points of backend.h in a library built without CUDA
// (CMake ORLEANSLLM_CUDA off). Built instead of cuda/cuda-backend.cu, never beside it.
#include "backend.h"
#include "status.h"

namespace olm {

std::unique_ptr<forward_backend> make_cuda_backend(const model&, const cuda_backend_params&) {
    throw error(ORLEANSLLM_ERR_UNSUPPORTED,
                "backend cuda: this library was built without CUDA (configure with -DORLEANSLLM_CUDA=ON where nvcc is installed)");
}

bool cuda_device_available() { return false; }

}  // namespace olm
