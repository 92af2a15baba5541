// AVX2 paged attention for the common head sizes (64, 128) and GQA groups up to 8: one task per
// (sequence, KV head, chunk of queries); the query heads sharing a KV head are processed together
// so each K/V row is fetched once, and the softmax exponentials are vectorised.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "avx2-math.h"
#include "forward.h"
#include "ops.h"
#include "thread-pool.h"

namespace olm {

namespace {

constexpr int32_t kQueryChunk = 8;
constexpr int32_t kMaxGroup = 8;

// Softmax of s[0, n) in place.
void softmax(float* s, int32_t n) {
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int32_t j = 0;
    for (; j + 8 <= n; j += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + j));
    float m = hmax(mx);
    for (; j < n; ++j) m = std::max(m, s[j]);
    const __m256 mv = _mm256_set1_ps(m);
    __m256 sum = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv));
        _mm256_storeu_ps(s + j, e);
        sum = _mm256_add_ps(sum, e);
    }
    float total = hsum(sum);
    for (; j < n; ++j) {
        s[j] = std::exp(s[j] - m);
        total += s[j];
    }
    const __m256 inv = _mm256_set1_ps(1.0f / total);
    for (j = 0; j + 8 <= n; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
    for (; j < n; ++j) s[j] *= 1.0f / total;
}

// Eight cache elements as float32: F32 as is, BF16 widened (a shift into the high half).
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

template <int HD, typename E>
void attend_query(const float* const* q_heads, int32_t group, const E* k_cache, const E* v_cache,
                  const int32_t* blocks, int32_t block_size, int64_t token_stride, int32_t kvh, int32_t n_keys,
                  float scale, float* scores /* [group][stride] */, int32_t stride, float* const* out_heads) {
    constexpr int V = HD / 8;
    alignas(32) float q[kMaxGroup][HD];
    for (int32_t g = 0; g < group; ++g)
        for (int v = 0; v < V; ++v)
            _mm256_store_ps(q[g] + v * 8, _mm256_mul_ps(_mm256_loadu_ps(q_heads[g] + v * 8), _mm256_set1_ps(scale)));

    // scores[g][j] = q_g · k_j (scaled). Eight keys at a time: eight independent FMA chains, and
    // one horizontal reduction yields all eight scores.
    const auto key_row = [&](int32_t j) {
        return k_cache + (int64_t(blocks[j / block_size]) * block_size + j % block_size) * token_stride + int64_t(kvh) * HD;
    };
    int32_t j = 0;
    for (; j + 8 <= n_keys; j += 8) {
        const E* k[8];
        for (int i = 0; i < 8; ++i) k[i] = key_row(j + i);
        for (int32_t g = 0; g < group; ++g) {
            __m256 a[8];
            for (int i = 0; i < 8; ++i) a[i] = _mm256_setzero_ps();
            for (int v = 0; v < V; ++v) {
                const __m256 qv = _mm256_load_ps(q[g] + v * 8);
                for (int i = 0; i < 8; ++i) a[i] = _mm256_fmadd_ps(qv, load8(k[i] + v * 8), a[i]);
            }
            _mm256_storeu_ps(scores + g * stride + j, hsum8(a));
        }
    }
    for (; j < n_keys; ++j) {
        const E* k = key_row(j);
        for (int32_t g = 0; g < group; ++g) {
            __m256 a0 = _mm256_mul_ps(_mm256_load_ps(q[g]), load8(k));
            __m256 a1 = _mm256_mul_ps(_mm256_load_ps(q[g] + 8), load8(k + 8));
            for (int v = 2; v < V; v += 2) {
                a0 = _mm256_fmadd_ps(_mm256_load_ps(q[g] + v * 8), load8(k + v * 8), a0);
                a1 = _mm256_fmadd_ps(_mm256_load_ps(q[g] + v * 8 + 8), load8(k + v * 8 + 8), a1);
            }
            scores[g * stride + j] = hsum(_mm256_add_ps(a0, a1));
        }
    }
    for (int32_t g = 0; g < group; ++g) softmax(scores + g * stride, n_keys);

    // out_g = sum_j p[g][j] · v_j, one head at a time (its V/8 accumulators stay in registers).
    for (int32_t g = 0; g < group; ++g) {
        __m256 o[V];
        for (int v = 0; v < V; ++v) o[v] = _mm256_setzero_ps();
        const float* p = scores + g * stride;
        for (int32_t j = 0; j < n_keys; ++j) {
            const E* vr = v_cache + (int64_t(blocks[j / block_size]) * block_size + j % block_size) * token_stride + int64_t(kvh) * HD;
            const __m256 pj = _mm256_set1_ps(p[j]);
            for (int v = 0; v < V; ++v) o[v] = _mm256_fmadd_ps(pj, load8(vr + v * 8), o[v]);
        }
        for (int v = 0; v < V; ++v) _mm256_storeu_ps(out_heads[g] + v * 8, o[v]);
    }
}

}  // namespace

bool paged_attention_avx2_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim) {
    return (head_dim == 64 || head_dim == 128) && n_heads / n_kv_heads <= kMaxGroup;
}

void paged_attention_avx2(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                          const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                          int32_t block_size, dtype kv_type, int64_t inline_below) {
    struct task { int32_t seq, kv_head, q0, q1; };
    std::vector<task> tasks;
    int64_t work = 0;
    for (int32_t s = 0; s < batch.n_seqs; ++s) {
        for (int32_t t = batch.query_start[s]; t < batch.query_start[s + 1]; ++t) work += int64_t(batch.positions[t] + 1) * n_heads;
        for (int32_t h = 0; h < n_kv_heads; ++h)
            for (int32_t t = batch.query_start[s]; t < batch.query_start[s + 1]; t += kQueryChunk)
                tasks.push_back({s, h, t, std::min(t + kQueryChunk, batch.query_start[s + 1])});
    }
    const int32_t group = n_heads / n_kv_heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const int64_t token_stride = int64_t(n_kv_heads) * head_dim;

    const auto run = [&](int64_t i) {
        const task& tk = tasks[static_cast<size_t>(i)];
        const int32_t* blocks = batch.block_indices + batch.block_indptr[tk.seq];
        thread_local std::vector<float> scores;
        for (int32_t t = tk.q0; t < tk.q1; ++t) {
            const int32_t n_keys = batch.positions[t] + 1;
            const int32_t stride = (n_keys + 7) / 8 * 8;
            if (scores.size() < size_t(group) * size_t(stride)) scores.resize(size_t(group) * size_t(stride));
            const float* q_heads[kMaxGroup];
            float* out_heads[kMaxGroup];
            for (int32_t g = 0; g < group; ++g) {
                const int64_t row = (int64_t(t) * n_heads + tk.kv_head * group + g) * head_dim;
                q_heads[g] = q + row;
                out_heads[g] = out + row;
            }
            const auto attend = [&](auto head_dim_constant, const auto* k, const auto* v) {
                attend_query<decltype(head_dim_constant)::value>(q_heads, group, k, v, blocks, block_size, token_stride,
                                                                  tk.kv_head, n_keys, scale, scores.data(), stride, out_heads);
            };
            const auto with_head_dim = [&](const auto* k, const auto* v) {
                if (head_dim == 64) {
                    attend(std::integral_constant<int, 64>{}, k, v);
                } else {
                    attend(std::integral_constant<int, 128>{}, k, v);
                }
            };
            if (kv_type == dtype::bf16) {
                with_head_dim(static_cast<const uint16_t*>(k_cache), static_cast<const uint16_t*>(v_cache));
            } else {
                with_head_dim(static_cast<const float*>(k_cache), static_cast<const float*>(v_cache));
            }
        }
    };
    // Below the limit a dispatch costs more than it saves (a small model's single decode token).
    if (work < inline_below) {
        for (int64_t i = 0; i < static_cast<int64_t>(tasks.size()); ++i) run(i);
        return;
    }
    pool.parallel_for(static_cast<int64_t>(tasks.size()), run);
}

}  // namespace olm
