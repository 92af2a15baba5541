// cuda-loader.cpp: backend.h's CUDA entry points in liborleansllm. The CUDA backend is a plugin,
// liborleansllm-cuda.so (src/cuda/, linked with cudart and cuBLAS), opened on first use, so that
// liborleansllm itself never depends on CUDA libraries: the same build runs on machines and
// containers without them, and says why backend cuda is unavailable there. A library built
// without CUDA never opens a plugin (one lying around would be another build's).
#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "backend.h"
#include "cuda/cuda-plugin.h"
#include "status.h"

namespace olm {

#ifndef OLM_WITH_CUDA

std::unique_ptr<forward_backend> make_cuda_backend(const model&, const cuda_backend_params&) {
    throw error(ORLEANSLLM_ERR_UNSUPPORTED,
                "backend cuda: this library was built without CUDA (configure with -DORLEANSLLM_CUDA=ON where nvcc is installed)");
}

bool cuda_device_available() { return false; }

#else

namespace {

struct cuda_plugin {
    void* handle = nullptr;
    olm_cuda_make_backend_fn make = nullptr;
    olm_cuda_device_available_fn available = nullptr;
    std::string failure;  // why it did not load
};

std::string own_directory() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&own_directory), &info) == 0 || info.dli_fname == nullptr) return "";
    const std::string path = info.dli_fname;
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

cuda_plugin load_plugin() {
    cuda_plugin p;
    // $ORLEANSLLM_CUDA_PLUGIN, then beside this library, then the build's artifacts/native, then
    // the loader's search path.
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("ORLEANSLLM_CUDA_PLUGIN"); env != nullptr && *env != '\0') candidates.push_back(env);
    const std::string dir = own_directory();
    if (!dir.empty()) candidates.push_back(dir + "/" OLM_CUDA_PLUGIN_NAME);
#ifdef OLM_CUDA_PLUGIN_DIR
    candidates.push_back(OLM_CUDA_PLUGIN_DIR "/" OLM_CUDA_PLUGIN_NAME);
#endif
    candidates.push_back(OLM_CUDA_PLUGIN_NAME);
    for (const std::string& c : candidates) {
        void* h = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr) {
            const char* e = dlerror();
            p.failure += (p.failure.empty() ? "" : "; ") + std::string(e != nullptr ? e : c);
            continue;
        }
        p.make = reinterpret_cast<olm_cuda_make_backend_fn>(dlsym(h, "olm_cuda_make_backend"));
        p.available = reinterpret_cast<olm_cuda_device_available_fn>(dlsym(h, "olm_cuda_device_available"));
        const auto abi = reinterpret_cast<olm_cuda_plugin_abi_fn>(dlsym(h, "olm_cuda_plugin_abi"));
        if (p.make == nullptr || p.available == nullptr || abi == nullptr) {
            p.failure += "; " + c + " lacks the plugin entry points";
            dlclose(h);
            continue;
        }
        if (abi() != OLM_CUDA_PLUGIN_ABI) {
            p.failure += "; " + c + " is from another build (ABI " + std::to_string(abi()) + ", this library " +
                         std::to_string(OLM_CUDA_PLUGIN_ABI) + ")";
            dlclose(h);
            continue;
        }
        p.handle = h;
        return p;
    }
    return p;
}

const cuda_plugin& plugin() {
    static const cuda_plugin p = load_plugin();
    return p;
}

}  // namespace

std::unique_ptr<forward_backend> make_cuda_backend(const model& m, const cuda_backend_params& params) {
    const cuda_plugin& p = plugin();
    if (p.handle == nullptr) {
        throw error(ORLEANSLLM_ERR_UNSUPPORTED, "backend cuda: cannot load " OLM_CUDA_PLUGIN_NAME " (" + p.failure + ")");
    }
    int32_t status = ORLEANSLLM_OK;
    char message[1024] = {0};
    forward_backend* b = p.make(&m, &params, &status, message, sizeof(message));
    if (b == nullptr) throw error(status == ORLEANSLLM_OK ? ORLEANSLLM_ERR_INTERNAL : status, message);
    return std::unique_ptr<forward_backend>(b);
}

bool cuda_device_available() {
    const cuda_plugin& p = plugin();
    return p.handle != nullptr && p.available() != 0;
}

#endif  // OLM_WITH_CUDA

}  // namespace olm
