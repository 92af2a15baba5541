// ops.h: the element-wise and attention kernels of the CPU backend (AVX2 + FMA baseline).
#pragma once

#include <cstdint>
#include <cstring>

#include "batch.h"
#include "dtype.h"

namespace olm {

class thread_pool;

// float32 → BF16, round to nearest even; NaN stays a (quiet) NaN.
inline uint16_t to_bf16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
    return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

inline float from_bf16(uint16_t h) {
    const uint32_t bits = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

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
// q: [n_tokens, n_heads, head_dim]; k_cache/v_cache: [n_blocks, block_size, n_kv_heads, head_dim]
// rows of kv_type (F32, BF16 or kv_int8: dtype.h's kv_row_bytes); out: [n_tokens, n_heads, head_dim].
// kv_int8 rows are dequantized in registers by every path (AVX-512, AVX2, the generic one).
void paged_attention(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                     const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                     int32_t block_size, dtype kv_type = dtype::f32);

// AVX2: head_dim 64 or 128 with GQA groups up to 8 (others take the generic kernel), F32 or BF16
// K/V. Batches with fewer than `inline_below` query·key products run on the calling thread, except
// decode batches (one query per sequence) with more than split_min_keys keys, whose keys are split
// into ranges across the pool (as are decode batches with fewer KV-head tasks than two per thread).
bool paged_attention_avx2_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim);
void paged_attention_avx2(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                          const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                          int32_t block_size, dtype kv_type, int64_t inline_below = 16384,
                          int32_t split_min_keys = 128);

// AVX-512, for batches that carry a prompt (a sequence with several queries): head_dim 64 or 128,
// GQA groups up to 8, F32, BF16 or kv_int8 K/V. Its lanes are a task's query heads (up to 32), so
// it suits many queries per KV head; paged_attention sends decode batches to the kernels below.
bool paged_attention_avx512_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim);
void paged_attention_avx512(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                            const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                            int32_t block_size, dtype kv_type);

// kv_int8 caches (rows of head_dim int8 and a float32 scale), head_dim 64 or 128 and GQA groups
// up to 8: the values are widened to float in registers, next to the FMAs that use them, and the
// row's scale is applied once per score (K) and folded into the probability (V).
bool paged_attention_int8_avx2_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim);
void paged_attention_int8_avx2(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                               const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                               int32_t block_size);
bool paged_attention_int8_avx512_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim);
void paged_attention_int8_avx512(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                                 const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                                 int32_t block_size);

}  // namespace olm
