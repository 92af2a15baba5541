// AVX-512 paged attention: one task per (sequence, KV head, chunk of queries); the query heads
// that share a KV head (GQA) are processed together so each K/V row is loaded once.
// Supports head_dim in {64, 128} (a whitelist: other sizes take the AVX2 kernel) and GQA groups up to 8.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "avx512-math.h"
#include "batch.h"
#include "ops.h"
#include "thread-pool.h"

namespace olm {

namespace {

constexpr int32_t kQueryChunk = 8;
constexpr int32_t kMaxGroup = 8;

template <int HD>
void attend_query(const float* const* q_heads, int32_t group, const float* k_cache, const float* v_cache,
                  const int32_t* blocks, int32_t block_size, int64_t token_stride, int32_t kvh, int32_t n_keys,
                  float scale, float* scores /* [group][n_keys_padded] */, int32_t stride, float* const* out_heads) {
    constexpr int V = HD / 16;
    __m512 q[kMaxGroup][V];
    for (int32_t g = 0; g < group; ++g)
        for (int v = 0; v < V; ++v) q[g][v] = _mm512_mul_ps(_mm512_loadu_ps(q_heads[g] + v * 16), _mm512_set1_ps(scale));

    // scores[g][j] = q_g · k_j (scaled)
    for (int32_t j = 0; j < n_keys; ++j) {
        const float* k = k_cache + (int64_t(blocks[j / block_size]) * block_size + j % block_size) * token_stride + int64_t(kvh) * HD;
        __m512 kv[V];
        for (int v = 0; v < V; ++v) kv[v] = _mm512_loadu_ps(k + v * 16);
        for (int32_t g = 0; g < group; ++g) {
            __m512 acc = _mm512_mul_ps(q[g][0], kv[0]);
            for (int v = 1; v < V; ++v) acc = _mm512_fmadd_ps(q[g][v], kv[v], acc);
            scores[g * stride + j] = _mm512_reduce_add_ps(acc);
        }
    }
    for (int32_t g = 0; g < group; ++g) softmax_avx512(scores + g * stride, n_keys);
    // out_g = sum_j p[g][j] · v_j
    __m512 o[kMaxGroup][V];
    for (int32_t g = 0; g < group; ++g)
        for (int v = 0; v < V; ++v) o[g][v] = _mm512_setzero_ps();
    for (int32_t j = 0; j < n_keys; ++j) {
        const float* vr = v_cache + (int64_t(blocks[j / block_size]) * block_size + j % block_size) * token_stride + int64_t(kvh) * HD;
        __m512 vv[V];
        for (int v = 0; v < V; ++v) vv[v] = _mm512_loadu_ps(vr + v * 16);
        for (int32_t g = 0; g < group; ++g) {
            const __m512 p = _mm512_set1_ps(scores[g * stride + j]);
            for (int v = 0; v < V; ++v) o[g][v] = _mm512_fmadd_ps(p, vv[v], o[g][v]);
        }
    }
    for (int32_t g = 0; g < group; ++g)
        for (int v = 0; v < V; ++v) _mm512_storeu_ps(out_heads[g] + v * 16, o[g][v]);
}

}  // namespace

bool paged_attention_avx512_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim) {
    return (head_dim == 64 || head_dim == 128) && n_heads / n_kv_heads <= kMaxGroup;
}

void paged_attention_avx512(thread_pool& pool, const batch_view& batch, const float* q, const float* k_cache,
                            const float* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                            int32_t block_size) {
    struct task { int32_t seq, kv_head, q0, q1; };
    std::vector<task> tasks;
    for (int32_t s = 0; s < batch.n_seqs; ++s)
        for (int32_t h = 0; h < n_kv_heads; ++h)
            for (int32_t t = batch.query_start[s]; t < batch.query_start[s + 1]; t += kQueryChunk)
                tasks.push_back({s, h, t, std::min(t + kQueryChunk, batch.query_start[s + 1])});
    const int32_t group = n_heads / n_kv_heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const int64_t token_stride = int64_t(n_kv_heads) * head_dim;

    pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t i) {
        const task& tk = tasks[static_cast<size_t>(i)];
        const int32_t* blocks = batch.block_indices + batch.block_indptr[tk.seq];
        thread_local std::vector<float> scores;
        for (int32_t t = tk.q0; t < tk.q1; ++t) {
            const int32_t n_keys = batch.positions[t] + 1;
            const int32_t stride = (n_keys + 15) / 16 * 16;
            if (scores.size() < size_t(group) * size_t(stride)) scores.resize(size_t(group) * size_t(stride));
            const float* q_heads[kMaxGroup];
            float* out_heads[kMaxGroup];
            for (int32_t g = 0; g < group; ++g) {
                const int64_t row = (int64_t(t) * n_heads + tk.kv_head * group + g) * head_dim;
                q_heads[g] = q + row;
                out_heads[g] = out + row;
            }
            if (head_dim == 64) {
                attend_query<64>(q_heads, group, k_cache, v_cache, blocks, block_size, token_stride, tk.kv_head, n_keys, scale,
                                 scores.data(), stride, out_heads);
            } else {
                attend_query<128>(q_heads, group, k_cache, v_cache, blocks, block_size, token_stride, tk.kv_head, n_keys, scale,
                                  scores.data(), stride, out_heads);
            }
        }
    });
}

}  // namespace olm
