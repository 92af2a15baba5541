// backend.h: the seam where a device plugs in. A backend holds the paged K/V memory and runs the
// forward pass over one flat batch (batch.h); the block pool, scheduler and sampler above it are
// the same whatever the backend. CPU: forward.cpp over kv_storage. CUDA: cuda/cuda-backend.cu.
#pragma once

#include <cstdint>
#include <memory>

#include "batch.h"
#include "dtype.h"

namespace olm {

struct model;
class thread_pool;

enum class backend_kind : int32_t { cpu = 0, cuda = 1 };

struct cuda_backend_params {
    int32_t device_index = 0;
    float gpu_memory_fraction = 0.9f;  // of the device's memory: weights + workspace + K/V blocks
    int32_t max_batched_tokens = 512;  // tokens of the largest batch (sizes the workspace)
    int32_t max_logits_rows = 0;       // logits rows of the largest batch (the LM head's output); 0 = max_batched_tokens
    bool use_cuda_graphs = true;       // decode steps of 1, 2, 4, ... 256 sequences replay captured graphs
};

class forward_backend {
public:
    virtual ~forward_backend() = default;

    virtual const char* name() const = 0;
    // Bytes of one K/V block of block_size_tokens tokens, all layers.
    virtual int64_t kv_bytes_per_block(int32_t block_size_tokens) const = 0;
    // How many blocks fit within kv_cache_bytes and whatever else bounds this device's memory.
    virtual int64_t max_kv_blocks(int32_t block_size_tokens, int64_t kv_cache_bytes) const = 0;
    // Allocates the K/V storage; called once, before forward().
    virtual void allocate_kv(int32_t n_blocks, int32_t block_size_tokens) = 0;
    // Runs the model over `batch` (forward.h's contract) and writes logits [n_logits, vocab]
    // float32 into host memory.
    virtual void forward(const batch_view& batch, float* logits) = 0;
    // Greedy sampling where the logits are: runs forward and writes each logits row's argmax
    // (smallest index on ties, the sampler's greedy rule) into tokens [n_logits], leaving the
    // logits themselves behind. False when the backend does not (the caller then calls forward).
    virtual bool forward_greedy(const batch_view& batch, int32_t* tokens) { return false; }
};

// `m` and `pool` must outlive the backend. K/V are held as kv_type (model::kv_type).
std::unique_ptr<forward_backend> make_cpu_backend(const model& m, thread_pool& pool, dtype kv_type);

// Uploads the weights to the device, through the plugin liborleansllm-cuda.so (cuda-loader.cpp).
// Throws olm::error: ORLEANSLLM_ERR_UNSUPPORTED "built without CUDA" when the library was built
// without it, "cannot load liborleansllm-cuda.so" when the plugin or the CUDA libraries are
// missing, "no CUDA device" when none is visible,
// INVALID_ARGUMENT for a bad device index or fraction, OUT_OF_MEMORY when the weights do not fit.
std::unique_ptr<forward_backend> make_cuda_backend(const model& m, const cuda_backend_params& params);

// True when the CUDA plugin loads and a device is visible.
bool cuda_device_available();

}  // namespace olm
