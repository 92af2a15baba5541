// ops.h: the element-wise and attention kernels of the CPU backend (AVX2 + FMA baseline).
#pragma once

#include <cstdint>

namespace olm {

class thread_pool;
struct batch_view;

// dot product of two float vectors of length n
float dot(const float* a, const float* b, int64_t n);

// out[t] = x[t] / rms(x[t]) * weight for n rows of `dim` floats (out may alias x).
void rms_norm(const float* x, const float* weight, float* out, int64_t n, int64_t dim, float eps);

// Rotates pairs (i, i + head_dim/2) of every head by angle position * inv_freq[i]
// (the "rotate_half" convention). x: [n, n_heads, head_dim]; cos/sin: [n, head_dim/2].
void rope(float* x, int64_t n, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin);

// out[t, i] = silu(gate[t, i]) * up[t, i]; all [n, dim] (out may alias gate).
void silu_mul(const float* gate, const float* up, float* out, int64_t n, int64_t dim);

// x[i] += y[i] for n floats
void add_inplace(float* x, const float* y, int64_t n);

// Causal attention of each batch token over its sequence's paged context.
// q: [n_tokens, n_heads, head_dim]; k_cache/v_cache: [n_blocks, block_size, n_kv_heads, head_dim];
// out: [n_tokens, n_heads, head_dim].
void paged_attention(thread_pool& pool, const batch_view& batch, const float* q, const float* k_cache,
                     const float* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                     int32_t block_size);

// AVX-512 variant for the whitelisted shapes (head_dim 64 or 128, GQA group <= 8); paged_attention
// dispatches to it when the CPU and the shape allow.
// AVX2: head_dim 64 or 128 with GQA groups up to 8 (others take the generic kernel). Batches with
// fewer than `inline_below` query·key products run on the calling thread (no dispatch).
bool paged_attention_avx2_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim);
void paged_attention_avx2(thread_pool& pool, const batch_view& batch, const float* q, const float* k_cache,
                          const float* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                          int32_t block_size, int64_t inline_below = 16384);
bool paged_attention_avx512_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim);
void paged_attention_avx512(thread_pool& pool, const batch_view& batch, const float* q, const float* k_cache,
                            const float* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                            int32_t block_size);

}  // namespace olm
