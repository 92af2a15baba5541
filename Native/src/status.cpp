#include "status.h"

namespace olm {

static thread_local std::string g_last_error;

void set_last_error(const std::string& message) { g_last_error = message; }
void clear_last_error() { g_last_error.clear(); }

}  // namespace olm

extern "C" const char* orleansllm_last_error(void) { return olm::g_last_error.c_str(); }

extern "C" const char* orleansllm_status_name(int32_t status) {
    switch (status) {
        case ORLEANSLLM_OK: return "ok";
        case ORLEANSLLM_ERR_INVALID_ARGUMENT: return "invalid_argument";
        case ORLEANSLLM_ERR_IO: return "io";
        case ORLEANSLLM_ERR_FORMAT: return "format";
        case ORLEANSLLM_ERR_UNSUPPORTED: return "unsupported";
        case ORLEANSLLM_ERR_OUT_OF_MEMORY: return "out_of_memory";
        case ORLEANSLLM_ERR_CAPACITY: return "capacity";
        case ORLEANSLLM_ERR_NOT_FOUND: return "not_found";
        case ORLEANSLLM_ERR_INTERNAL: return "internal";
        default: return "unknown";
    }
}
