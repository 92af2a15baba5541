// cuda-plugin.cpp: the exported entry points of liborleansllm-cuda.so (cuda-plugin.h).
#include "cuda/cuda-plugin.h"

#include <cstring>
#include <new>

#include "backend.h"
#include "cuda/cuda-backend.h"
#include "status.h"

namespace {

void put_message(char* out, size_t size, const char* text) {
    if (out == nullptr || size == 0) return;
    std::strncpy(out, text, size - 1);
    out[size - 1] = '\0';
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) olm::forward_backend* olm_cuda_make_backend(const olm::model* m,
                                                                                  const olm::cuda_backend_params* params,
                                                                                  int32_t* status, char* message,
                                                                                  size_t message_size) {
    try {
        return olm::cuda::make_backend(*m, *params).release();
    } catch (const olm::error& e) {
        *status = e.status();
        put_message(message, message_size, e.what());
    } catch (const std::bad_alloc&) {
        *status = ORLEANSLLM_ERR_OUT_OF_MEMORY;
        put_message(message, message_size, "out of memory");
    } catch (const std::exception& e) {
        *status = ORLEANSLLM_ERR_INTERNAL;
        put_message(message, message_size, e.what());
    }
    return nullptr;
}

__attribute__((visibility("default"))) int64_t olm_cuda_plugin_abi(void) { return OLM_CUDA_PLUGIN_ABI; }

__attribute__((visibility("default"))) int32_t olm_cuda_device_available(void) {
    return olm::cuda::device_available() ? 1 : 0;
}

}
