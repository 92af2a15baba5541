// cuda-backend.h: the CUDA backend's constructor, inside liborleansllm-cuda.so (the rest of the
// engine reaches it through backend.h's make_cuda_backend and the plugin loader).
#pragma once

#include <memory>

#include "backend.h"

namespace olm {
namespace cuda {

// Throws olm::error: UNSUPPORTED "no CUDA device" or a shape the kernels do not take,
// INVALID_ARGUMENT for a bad device index or fraction, OUT_OF_MEMORY when the weights do not fit.
std::unique_ptr<forward_backend> make_backend(const model& m, const cuda_backend_params& params);

// True when a CUDA device is visible.
bool device_available();

}  // namespace cuda
}  // namespace olm
