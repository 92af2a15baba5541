// forward.h: the model runner's contract: one forward pass over a flat, mixed batch of
// prefill chunks and decodes, reading and writing K/V through paged block tables.
#pragma once

#include <cstdint>
#include <vector>

#include "batch.h"
#include "dtype.h"
#include "huge-page-buffer.h"

namespace olm {

struct model;
class thread_pool;

// KV memory of one engine or context: per layer, K and V as
// [n_blocks, block_size_tokens, n_kv_heads] rows of kv_row_bytes(type, head_dim) bytes (dtype.h).
// The type is BF16 for BF16 checkpoints and float32 for F32 ones unless the caller chose another
// (model::kv_type): kv_int8 rows carry their scale. Each layer's K and V are a huge_page_buffer:
// zero pages until written, line-aligned rows, and 2 MiB pages, since decode attention reads one
// KV head's row of every token (a 4 KiB page held 4 tokens of llama3-1b's BF16 rows).
class kv_storage {
public:
    kv_storage(const model& m, int32_t n_blocks, int32_t block_size_tokens, dtype type);

    // [n_blocks, block_size, n_kv_heads] rows of type()
    void* keys(int32_t layer) { return k_[size_t(layer)].data(); }
    void* values(int32_t layer) { return v_[size_t(layer)].data(); }
    dtype type() const { return type_; }
    int32_t n_blocks() const { return n_blocks_; }
    int32_t block_size_tokens() const { return block_size_; }
    static int64_t bytes_per_block(const model& m, int32_t block_size_tokens, dtype type);
    // ... of the model's default KV type
    static int64_t bytes_per_block(const model& m, int32_t block_size_tokens);

private:
    int32_t n_blocks_;
    int32_t block_size_;
    dtype type_;
    std::vector<huge_page_buffer> k_;
    std::vector<huge_page_buffer> v_;
};

// Runs the model over `batch`: writes K/V of every batch token into its slot, attends over each
// sequence's context (causal), and writes logits: [n_logits, vocab_size] float32.
// Precondition: every slot and block index lies inside `kv`; context_lens[s] >= tokens of s.
void forward(const model& m, kv_storage& kv, const batch_view& batch, thread_pool& pool,
             float* logits);

}  // namespace olm
