#include <immintrin.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "batch.h"
#include "cpu-features.h"
#include "ops.h"
#include "thread-pool.h"

namespace olm {

namespace {

constexpr int32_t kQueryChunk = 16;  // query tokens per task: enough tasks for long prefills

// out[d] += p * v[d]
inline void axpy(float* out, const float* v, float p, int32_t n) {
    const __m256 pv = _mm256_set1_ps(p);
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_fmadd_ps(pv, _mm256_loadu_ps(v + i), _mm256_loadu_ps(out + i)));
    for (; i < n; ++i) out[i] += p * v[i];
}

// The K/V row `row` (slot · n_kv_heads + KV head) of an F32 or BF16 cache, as float32: the row
// itself for an F32 cache, else converted into `scratch`.
const float* kv_row(const void* cache, dtype type, int64_t row, int32_t n, float* scratch) {
    if (type == dtype::f32) return static_cast<const float*>(cache) + row * n;
    const uint16_t* src = static_cast<const uint16_t*>(cache) + row * n;
    for (int32_t i = 0; i < n; ++i) scratch[i] = from_bf16(src[i]);
    return scratch;
}

// A kv_int8 row (dtype.h): its values and its scale.
struct int8_row {
    const int8_t* values;
    float scale;
};

int8_row kv_int8_row(const void* cache, int64_t row, int32_t head_dim) {
    const uint8_t* r = static_cast<const uint8_t*>(cache) + row * kv_row_bytes(dtype::kv_int8, head_dim);
    int8_row out{reinterpret_cast<const int8_t*>(r), 0.0f};
    std::memcpy(&out.scale, r + head_dim, sizeof(float));
    return out;
}

// q · (scale · k), dequantizing as it goes.
float dot_int8(const float* q, int8_row k, int32_t n) {
    float acc = 0.0f;
    for (int32_t i = 0; i < n; ++i) acc += q[i] * float(k.values[i]);
    return acc * k.scale;
}

// out[d] += p · scale · v[d]
void axpy_int8(float* out, int8_row v, float p, int32_t n) {
    const float ps = p * v.scale;
    for (int32_t i = 0; i < n; ++i) out[i] += ps * float(v.values[i]);
}

// Keys per range, at least, when a decode step's attention is split by key range across the pool
// (attention-avx2.cpp). ORLEANSLLM_ATTENTION_DECODE_SPLIT=0 turns the split off without a rebuild,
// for A/B runs: on a machine with more runnable threads than cores the extra dispatch per layer
// can wait on a descheduled worker (docs/PERFORMANCE.md).
int32_t decode_split_min_keys() {
    static const int32_t keys = [] {
        const char* env = std::getenv("ORLEANSLLM_ATTENTION_DECODE_SPLIT");
        return env != nullptr && std::strcmp(env, "0") == 0 ? 0 : 128;
    }();
    return keys;
}

}  // namespace

void paged_attention(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                     const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                     int32_t block_size, dtype kv_type) {
    if (cpu_has_avx512() && batch.n_tokens > batch.n_seqs && paged_attention_avx512_supports(n_heads, n_kv_heads, head_dim)) {
        paged_attention_avx512(pool, batch, q, k_cache, v_cache, out, n_heads, n_kv_heads, head_dim, block_size, kv_type);
        return;
    }
    if (kv_type == dtype::kv_int8) {
        if (cpu_has_avx512() && paged_attention_int8_avx512_supports(n_heads, n_kv_heads, head_dim)) {
            paged_attention_int8_avx512(pool, batch, q, k_cache, v_cache, out, n_heads, n_kv_heads, head_dim, block_size);
            return;
        }
        if (paged_attention_int8_avx2_supports(n_heads, n_kv_heads, head_dim)) {
            paged_attention_int8_avx2(pool, batch, q, k_cache, v_cache, out, n_heads, n_kv_heads, head_dim, block_size);
            return;
        }
    }
    if (paged_attention_avx2_supports(n_heads, n_kv_heads, head_dim)) {
        paged_attention_avx2(pool, batch, q, k_cache, v_cache, out, n_heads, n_kv_heads, head_dim, block_size, kv_type, 16384,
                             decode_split_min_keys());
        return;
    }
    struct task { int32_t seq, head, q0, q1; };
    std::vector<task> tasks;
    for (int32_t s = 0; s < batch.n_seqs; ++s) {
        for (int32_t h = 0; h < n_heads; ++h) {
            for (int32_t t = batch.query_start[s]; t < batch.query_start[s + 1]; t += kQueryChunk) {
                tasks.push_back({s, h, t, std::min(t + kQueryChunk, batch.query_start[s + 1])});
            }
        }
    }
    const int32_t group = n_heads / n_kv_heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));

    pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
        const task& tk = tasks[static_cast<size_t>(i)];
        const int32_t kvh = tk.head / group;
        const int32_t* blocks = batch.block_indices + batch.block_indptr[tk.seq];
        thread_local std::vector<float> scores, row;
        row.resize(static_cast<size_t>(head_dim));
        for (int32_t t = tk.q0; t < tk.q1; ++t) {
            const int32_t n_keys = batch.positions[t] + 1;  // causal: keys at positions 0..p
            assert(n_keys <= batch.context_lens[tk.seq]);
            if (static_cast<int32_t>(scores.size()) < n_keys) scores.resize(static_cast<size_t>(n_keys));
            const float* qv = q + (int64_t(t) * n_heads + tk.head) * head_dim;
            float max_score = -INFINITY;
            for (int32_t j = 0; j < n_keys; ++j) {
                const int64_t slot = int64_t(blocks[j / block_size]) * block_size + j % block_size;
                const int64_t r = slot * n_kv_heads + kvh;
                const float sc = (kv_type == dtype::kv_int8 ? dot_int8(qv, kv_int8_row(k_cache, r, head_dim), head_dim)
                                                            : dot(qv, kv_row(k_cache, kv_type, r, head_dim, row.data()), head_dim)) *
                                 scale;
                scores[static_cast<size_t>(j)] = sc;
                max_score = std::max(max_score, sc);
            }
            float sum = 0.0f;
            for (int32_t j = 0; j < n_keys; ++j) {
                const float e = std::exp(scores[static_cast<size_t>(j)] - max_score);
                scores[static_cast<size_t>(j)] = e;
                sum += e;
            }
            float* o = out + (int64_t(t) * n_heads + tk.head) * head_dim;
            std::fill(o, o + head_dim, 0.0f);
            const float inv_sum = 1.0f / sum;
            for (int32_t j = 0; j < n_keys; ++j) {
                const int64_t slot = int64_t(blocks[j / block_size]) * block_size + j % block_size;
                const int64_t r = slot * n_kv_heads + kvh;
                const float p = scores[static_cast<size_t>(j)] * inv_sum;
                if (kv_type == dtype::kv_int8) {
                    axpy_int8(o, kv_int8_row(v_cache, r, head_dim), p, head_dim);
                } else {
                    axpy(o, kv_row(v_cache, kv_type, r, head_dim, row.data()), p, head_dim);
                }
            }
        }
    });
}

}  // namespace olm
