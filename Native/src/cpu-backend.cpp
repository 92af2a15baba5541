// cpu-backend.cpp: the CPU backend: forward() of forward.cpp over a kv_storage in host memory.
#include <memory>

#include "backend.h"
#include "forward.h"
#include "model.h"

namespace olm {

namespace {

class cpu_backend final : public forward_backend {
public:
    cpu_backend(const model& m, thread_pool& pool, dtype kv_type) : model_(m), pool_(pool), kv_type_(kv_type) {}

    const char* name() const override { return "cpu"; }
    int64_t kv_bytes_per_block(int32_t block_size_tokens) const override {
        return kv_storage::bytes_per_block(model_, block_size_tokens, kv_type_);
    }
    int64_t max_kv_blocks(int32_t block_size_tokens, int64_t kv_cache_bytes) const override {
        return kv_cache_bytes / kv_bytes_per_block(block_size_tokens);
    }
    void allocate_kv(int32_t n_blocks, int32_t block_size_tokens) override {
        kv_ = std::make_unique<kv_storage>(model_, n_blocks, block_size_tokens, kv_type_);
    }
    void forward(const batch_view& batch, float* logits) override { olm::forward(model_, *kv_, batch, pool_, logits); }

private:
    const model& model_;
    thread_pool& pool_;
    dtype kv_type_;
    std::unique_ptr<kv_storage> kv_;
};

}  // namespace

std::unique_ptr<forward_backend> make_cpu_backend(const model& m, thread_pool& pool, dtype kv_type) {
    return std::make_unique<cpu_backend>(m, pool, kv_type);
}

}  // namespace olm
