// cuda-plugin.h: the C entry points of liborleansllm-cuda.so, which cuda-loader.cpp opens. Plain
// C signatures: status codes and messages cross the boundary, exceptions do not.
#pragma once

#include <cstddef>
#include <cstdint>

#define OLM_CUDA_PLUGIN_NAME "liborleansllm-cuda.so"

namespace olm {
struct model;
struct cuda_backend_params;
class forward_backend;
}  // namespace olm

extern "C" {
// Returns a new backend (the caller deletes it), or null with *status and message set.
typedef olm::forward_backend* (*olm_cuda_make_backend_fn)(const olm::model* m, const olm::cuda_backend_params* params,
                                                          int32_t* status, char* message, size_t message_size);
// 1 when a CUDA device is visible.
typedef int32_t (*olm_cuda_device_available_fn)(void);
}
