// cuda-plugin.h: the C entry points of liborleansllm-cuda.so, which cuda-loader.cpp opens. Plain
// C signatures: status codes and messages cross the boundary, exceptions do not.
#pragma once

#include <cstddef>
#include <cstdint>

#define OLM_CUDA_PLUGIN_NAME "liborleansllm-cuda.so"

#include "backend.h"
#include "batch.h"
#include "model.h"

extern "C" {
// Returns a new backend (the caller deletes it), or null with *status and message set.
typedef olm::forward_backend* (*olm_cuda_make_backend_fn)(const olm::model* m, const olm::cuda_backend_params* params,
                                                          int32_t* status, char* message, size_t message_size);
// 1 when a CUDA device is visible.
typedef int32_t (*olm_cuda_device_available_fn)(void);
// The plugin's olm_cuda_plugin_abi(): the loader refuses a plugin from another build of the
// engine whose shared structs differ.
typedef int64_t (*olm_cuda_plugin_abi_fn)(void);
}

// Bump when the plugin's contract changes in a way the struct sizes do not show.
#define OLM_CUDA_PLUGIN_ABI_VERSION 1
#define OLM_CUDA_PLUGIN_ABI                                                                        \
    (int64_t(OLM_CUDA_PLUGIN_ABI_VERSION) * 1000000000 + int64_t(sizeof(olm::model)) * 100000 + \
     int64_t(sizeof(olm::cuda_backend_params)) * 100 + int64_t(sizeof(olm::batch_view)))
