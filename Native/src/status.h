// status.h: errors inside the engine are exceptions carrying a C status code; the C API
// boundary turns them into a return value plus a thread-local message.
#pragma once

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "orleansllm.h"

namespace olm {

// Default visibility: thrown in liborleansllm-cuda.so and caught in liborleansllm, it must be one
// type for both.
class __attribute__((visibility("default"))) error : public std::runtime_error {
public:
    error(int32_t status, const std::string& message) : std::runtime_error(message), status_(status) {}
    int32_t status() const { return status_; }

private:
    int32_t status_;
};

void set_last_error(const std::string& message);
void clear_last_error();

// Runs `body` and converts any exception into a status code + last error; used by every
// C entry point so that nothing throws across the boundary.
template <class F>
int32_t guard(F&& body) {
    try {
        body();
        clear_last_error();
        return ORLEANSLLM_OK;
    } catch (const error& e) {
        set_last_error(e.what());
        return e.status();
    } catch (const std::bad_alloc&) {
        set_last_error("out of memory");
        return ORLEANSLLM_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_last_error(std::string("internal error: ") + e.what());
        return ORLEANSLLM_ERR_INTERNAL;
    } catch (...) {
        set_last_error("internal error: unknown exception");
        return ORLEANSLLM_ERR_INTERNAL;
    }
}

}  // namespace olm
