// forward.h: the model runner's contract: one forward pass over a flat, mixed batch of
// prefill chunks and decodes, reading and writing K/V through paged block tables.
#pragma once

#include <cstdint>
#include <vector>

#include "safetensors.h"

namespace olm {

struct model;
class thread_pool;

// KV memory of one engine or context: per layer, K and V as
// [n_blocks, block_size_tokens, n_kv_heads, head_dim] elements of the model's kv_type()
// (BF16 for BF16 checkpoints, float32 otherwise).
class kv_storage {
public:
    kv_storage(const model& m, int32_t n_blocks, int32_t block_size_tokens);

    // [n_blocks, block_size, n_kv_heads, head_dim] elements of type()
    void* keys(int32_t layer) { return k_[size_t(layer)].data(); }
    void* values(int32_t layer) { return v_[size_t(layer)].data(); }
    dtype type() const { return type_; }
    int32_t n_blocks() const { return n_blocks_; }
    int32_t block_size_tokens() const { return block_size_; }
    static int64_t bytes_per_block(const model& m, int32_t block_size_tokens);

private:
    int32_t n_blocks_;
    int32_t block_size_;
    dtype type_;
    std::vector<std::vector<uint8_t>> k_;
    std::vector<std::vector<uint8_t>> v_;
};

// A scheduled batch as flat arrays (all owned by the caller; valid during forward()).
// Tokens of one sequence are contiguous and in position order.
struct batch_view {
    int32_t n_tokens = 0;
    const int32_t* token_ids = nullptr;      // [n_tokens]
    const int32_t* positions = nullptr;      // [n_tokens] position of each token in its sequence
    const int64_t* slot_mapping = nullptr;   // [n_tokens] KV slot = block * block_size + offset

    int32_t n_seqs = 0;
    const int32_t* query_start = nullptr;    // [n_seqs + 1] CSR: tokens of seq s are [qs[s], qs[s+1])
    const int32_t* context_lens = nullptr;   // [n_seqs] tokens in KV for seq s after this step
    const int32_t* block_indptr = nullptr;   // [n_seqs + 1] CSR into block_indices
    const int32_t* block_indices = nullptr;  // [block_indptr[n_seqs]] physical block ids, in order

    int32_t n_logits = 0;
    const int32_t* logits_rows = nullptr;    // [n_logits] token rows (0..n_tokens) whose logits are wanted
};

// Runs the model over `batch`: writes K/V of every batch token into its slot, attends over each
// sequence's context (causal), and writes logits: [n_logits, vocab_size] float32.
// Precondition: every slot and block index lies inside `kv`; context_lens[s] >= tokens of s.
void forward(const model& m, kv_storage& kv, const batch_view& batch, thread_pool& pool,
             float* logits);

}  // namespace olm
