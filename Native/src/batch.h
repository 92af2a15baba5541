// batch.h: a batch of tokens as the forward pass reads it (batch_view) and the one builder of
// those flat arrays. It sits below forward.h and the CPU kernels (which only read batch_view), so
// the single-sequence context and the engine's model runner lay out batches the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace olm {

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

// The part of a batch attention reads (positions, sequences, block tables), over arrays the caller
// owns: how kernel tests and benchmarks build one by hand.
inline batch_view attention_batch(int32_t n_tokens, const int32_t* positions, int32_t n_seqs, const int32_t* query_start,
                                  const int32_t* context_lens, const int32_t* block_indptr, const int32_t* block_indices) {
    batch_view b;
    b.n_tokens = n_tokens;
    b.positions = positions;
    b.n_seqs = n_seqs;
    b.query_start = query_start;
    b.context_lens = context_lens;
    b.block_indptr = block_indptr;
    b.block_indices = block_indices;
    return b;
}

// Which logits rows a sequence asks for.
enum class logits_wanted { none, last, all };

// Accumulates sequences into the arrays of one batch_view. The arrays are reused across
// batches (clear() keeps their capacity), so a decode step allocates nothing.
class batch_builder {
public:
    explicit batch_builder(int32_t block_size_tokens) : block_size_(block_size_tokens) {}

    void clear();

    // Appends the n_new tokens at positions [start, start + n_new) of one sequence; `tokens`
    // points at the first of them. Their K/V go to `blocks` (the sequence's block table, in
    // order; it must cover start + n_new tokens). Returns the logits row of the sequence's last
    // token when `wanted` is last, of its first token when all (rows are consecutive), else -1.
    int32_t add_sequence(const int32_t* tokens, int32_t start, int32_t n_new, const int32_t* blocks, size_t n_blocks,
                         logits_wanted wanted);

    // Views the arrays; valid until the next add_sequence or clear.
    batch_view view() const;

    int32_t n_tokens() const { return int32_t(token_ids_.size()); }
    int32_t n_logits() const { return int32_t(logits_rows_.size()); }

private:
    int32_t block_size_;
    std::vector<int32_t> token_ids_, positions_, query_start_{0}, context_lens_, block_indptr_{0}, block_indices_,
        logits_rows_;
    std::vector<int64_t> slot_mapping_;
};

}  // namespace olm
