// ops.h: the launchers of the CUDA backend's kernels, one op per .cu file beside this header.
// Plain C++ (no CUDA syntax), so the tests and the backend call them from .cpp files. Every
// pointer is device memory; BF16 tensors are uint16_t bit patterns (the CPU's to_bf16/from_bf16).
// Each launcher enqueues on `stream` and throws olm::error on a bad shape or a failed launch.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace olm {
namespace cuda {

// embedding.cu: out[t] = float(table[ids[t]]).
// table: [vocab, hidden] bf16; ids: [n]; out: [n, hidden] f32.
void launch_embedding(const uint16_t* table, const int32_t* ids, float* out, int32_t n, int32_t hidden,
                      cudaStream_t stream);

// rmsnorm.cu: for i < n, r = rows ? rows[i] : i: x[r] += residual[r] (when residual is not null),
// then out[i] = bf16(x[r] / rms(x[r]) * weight).
// x: [*, dim] f32 (updated); residual: [*, dim] f32 or null; rows: [n] or null; weight: [dim];
// out: [n, dim] bf16.
void launch_rms_norm_residual(float* x, const float* residual, const int32_t* rows, const float* weight,
                              uint16_t* out, int32_t n, int32_t dim, float eps, cudaStream_t stream);

// rmsnorm.cu: in place over every head of every token (qwen3's q/k norm).
// x: token t, head h starts at x + t * row_stride + h * head_dim; weight: [head_dim].
void launch_head_rms_norm(float* x, int64_t row_stride, const float* weight, int32_t n_tokens, int32_t n_heads,
                          int32_t head_dim, float eps, cudaStream_t stream);

// bias-add.cu: x[t, i] += bias[i]. x: [n, dim] f32; bias: [dim] f32.
void launch_bias_add(float* x, const float* bias, int32_t n, int32_t dim, cudaStream_t stream);

// rope.cu: rotates pairs (i, i + head_dim/2) of every head by positions[t] * inv_freq[i], in place
// (rotate_half convention; inv_freq already carries llama3 scaling when the model has it).
// x: token t, head h at x + t * row_stride + h * head_dim; positions: [n_tokens]; inv_freq: [head_dim/2].
void launch_rope(float* x, int64_t row_stride, const int32_t* positions, const float* inv_freq, int32_t n_tokens,
                 int32_t n_heads, int32_t head_dim, cudaStream_t stream);

// kv-write.cu: k_cache[slot[t]] = bf16(k[t]), v_cache[slot[t]] = bf16(v[t]); slots < 0 are skipped.
// k, v: token t at k + t * row_stride, kv_dim floats; slot_mapping: [n_tokens];
// k_cache, v_cache: [n_slots, kv_dim] bf16 (= [n_blocks, block_size, n_kv_heads, head_dim]).
void launch_kv_write(const float* k, const float* v, int64_t row_stride, const int64_t* slot_mapping,
                     uint16_t* k_cache, uint16_t* v_cache, int32_t n_tokens, int32_t kv_dim, cudaStream_t stream);

// silu-mul.cu: out[t, i] = bf16(silu(gate_up[t, i]) * gate_up[t, inter + i]).
// gate_up: [n, 2 * inter] f32 (gate then up, one fused GEMM); out: [n, inter] bf16.
void launch_silu_mul(const float* gate_up, uint16_t* out, int32_t n, int32_t inter, cudaStream_t stream);

// paged-attention.cu: the batch's CSR metadata on the device, and its work split into tiles.
struct attention_batch {
    int32_t n_tokens = 0;
    const int32_t* query_start = nullptr;    // [n_seqs + 1] CSR over tokens
    const int32_t* context_lens = nullptr;   // [n_seqs] tokens in KV after this step (prefix hits included)
    const int32_t* block_indptr = nullptr;   // [n_seqs + 1] CSR into block_indices
    const int32_t* block_indices = nullptr;  // [block_indptr[n_seqs]] physical block ids
    const int32_t* tiles = nullptr;          // [n_tiles, 3]: seq, first token, token count (from attention_tiles)
    int32_t n_tiles = 0;
    int32_t max_context_len = 0;             // over the batch's sequences (picks the split count)
};

// Query tokens one CTA takes: rows of (token, head of the GQA group) up to 16.
int32_t attention_tile_tokens(int32_t n_heads, int32_t n_kv_heads);

// Host: splits every sequence's tokens into tiles of at most tile_tokens; appends [seq, first,
// count] triples to `tiles` (capacity: n_seqs + n_tokens / tile_tokens triples at most).
// query_start: [n_seqs + 1] host. Returns the tile count.
int32_t attention_tiles(const int32_t* query_start, int32_t n_seqs, int32_t tile_tokens, int32_t* tiles);

// Shapes the attention kernel takes: head_dim 64 or 128, n_heads a multiple of n_kv_heads with a
// group of at most 8, block size 8, 16, 32, 64 or 128 tokens.
bool paged_attention_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim, int32_t block_size);

// Floats of split-K workspace n_splits need.
int64_t paged_attention_workspace_floats(int32_t n_tokens, int32_t n_heads, int32_t head_dim, int32_t n_splits);

// How many key splits to use: 1 when the tiles alone fill the device's n_sms multiprocessors or
// the contexts are short, else enough to fill it, within workspace_floats of workspace.
int32_t paged_attention_splits(const attention_batch& b, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                               int32_t n_sms, int64_t workspace_floats);

// Causal attention of every batch token over its sequence's paged context (prefix hits, chunked
// prefill and decode alike), keys split n_splits ways (split-K, merged by a second kernel) when
// n_splits > 1.
// q: token t at q + t * q_row_stride, [n_heads, head_dim] f32; k_cache, v_cache: [n_blocks,
// block_size, n_kv_heads, head_dim] bf16; out: [n_tokens, n_heads * head_dim] bf16;
// workspace: paged_attention_workspace_floats(...) floats, or null when n_splits == 1.
void launch_paged_attention(const float* q, int64_t q_row_stride, const uint16_t* k_cache, const uint16_t* v_cache,
                            uint16_t* out, const attention_batch& b, int32_t n_heads, int32_t n_kv_heads,
                            int32_t head_dim, int32_t block_size, int32_t n_splits, float* workspace,
                            cudaStream_t stream);

// argmax.cu: out[r] = the index of row r's largest logit (the smallest such index on ties, as
// the host sampler's greedy rule). logits: [n, vocab] f32; out: [n].
void launch_argmax(const float* logits, int32_t* out, int32_t n, int32_t vocab, cudaStream_t stream);

}  // namespace cuda
}  // namespace olm
