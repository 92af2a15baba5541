// AVX-512 paged attention over a kv_int8 cache: attention-int8-avx2.cpp's tasks and loops with
// 16 values per register (vpmovsxbd + vcvtdq2ps from 16 bytes); every K/V value is widened from
// int8 to float in a register right before its FMA, so the cache is read at one byte per element
// and never copied.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "aligned-vector.h"
#include "attention-tasks.h"
#include "avx512-math.h"
#include "batch.h"
#include "ops.h"
#include "thread-pool.h"

namespace olm {

namespace {

constexpr int32_t kQueryChunk = 8;
constexpr int32_t kMaxGroup = 8;
constexpr int32_t kValueTile = 64;  // V rows whose scales are gathered at a time

// Sixteen int8 values as sixteen floats.
inline __m512 widen_int8x16(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// The horizontal sums of eight vectors, as one vector of eight: out[i] = sum of a[i]'s lanes.
inline __m256 hsum8(const __m512* a) {
    __m256 h[8];
    for (int i = 0; i < 8; ++i) h[i] = _mm256_add_ps(_mm512_castps512_ps256(a[i]), _mm512_extractf32x8_ps(a[i], 1));
    const __m256 s01 = _mm256_hadd_ps(h[0], h[1]), s23 = _mm256_hadd_ps(h[2], h[3]);
    const __m256 s45 = _mm256_hadd_ps(h[4], h[5]), s67 = _mm256_hadd_ps(h[6], h[7]);
    const __m256 t0 = _mm256_hadd_ps(s01, s23), t1 = _mm256_hadd_ps(s45, s67);
    return _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20), _mm256_permute2f128_ps(t0, t1, 0x31));
}

struct scratch {
    aligned_vector<float> q;       // [n_heads_in_task][HD], pre-scaled queries
    aligned_vector<float> scores;  // [n_heads_in_task][stride]
};

// One task's query heads against their causal prefixes of one sequence's int8 cache.
// n_keys[h]: keys query head h sees (its position + 1).
template <int HD>
void attend(const float* const* q_heads, const int32_t* n_keys, int32_t n_qh, const uint8_t* k_cache, const uint8_t* v_cache,
            const int32_t* blocks, int32_t block_size, int32_t n_kv_heads, int32_t kvh, float scale, float* const* out_heads,
            scratch& sc) {
    constexpr int V = HD / 16;
    constexpr int64_t kRowBytes = HD + 4;
    const int32_t max_keys = *std::max_element(n_keys, n_keys + n_qh);
    const int32_t stride = (max_keys + 7) / 8 * 8;
    sc.q.resize(size_t(n_qh) * HD);
    sc.scores.resize(size_t(n_qh) * size_t(stride));
    for (int32_t h = 0; h < n_qh; ++h)
        for (int v = 0; v < V; ++v)
            _mm512_storeu_ps(sc.q.data() + h * HD + v * 16, _mm512_mul_ps(_mm512_loadu_ps(q_heads[h] + v * 16), _mm512_set1_ps(scale)));

    const auto row = [&](const uint8_t* cache, int32_t j) {
        return cache + ((int64_t(blocks[j / block_size]) * block_size + j % block_size) * n_kv_heads + kvh) * kRowBytes;
    };
    const auto row_scale = [](const uint8_t* r) {
        float s;
        std::memcpy(&s, r + HD, sizeof(float));
        return s;
    };

    // Scores, eight keys at a time: eight FMA chains per query head, one horizontal reduction for
    // all eight, then the keys' scales. Entries past a head's prefix inside the eight are computed
    // (from a repeated valid row) and ignored by the softmax.
    const int8_t* k[8];
    alignas(32) float k_scale[8];
    for (int32_t j = 0; j < max_keys; j += 8) {
        const int32_t count = std::min(8, max_keys - j);
        for (int32_t i = 0; i < 8; ++i) {
            const uint8_t* r = row(k_cache, j + std::min(i, count - 1));
            k[i] = reinterpret_cast<const int8_t*>(r);
            k_scale[i] = row_scale(r);
        }
        const __m256 ks = _mm256_load_ps(k_scale);
        for (int32_t h = 0; h < n_qh; ++h) {
            if (n_keys[h] <= j) continue;
            const float* qh = sc.q.data() + h * HD;
            __m512 a[8];
            for (int i = 0; i < 8; ++i) a[i] = _mm512_setzero_ps();
            for (int v = 0; v < V; ++v) {
                const __m512 qv = _mm512_loadu_ps(qh + v * 16);
                for (int i = 0; i < 8; ++i) a[i] = _mm512_fmadd_ps(qv, widen_int8x16(k[i] + v * 16), a[i]);
            }
            _mm256_storeu_ps(sc.scores.data() + size_t(h) * stride + j, _mm256_mul_ps(hsum8(a), ks));
        }
    }
    for (int32_t h = 0; h < n_qh; ++h) softmax_avx512(sc.scores.data() + size_t(h) * stride, n_keys[h]);

    // out_h = sum_j (p[h][j] · scale_j) · v_j, a tile of V rows at a time; each head's
    // accumulators stay in registers across the tile.
    for (int32_t h = 0; h < n_qh; ++h) std::fill(out_heads[h], out_heads[h] + HD, 0.0f);
    const int8_t* vrow[kValueTile];
    float v_scale[kValueTile];
    for (int32_t j0 = 0; j0 < max_keys; j0 += kValueTile) {
        const int32_t count = std::min(kValueTile, max_keys - j0);
        for (int32_t i = 0; i < count; ++i) {
            const uint8_t* r = row(v_cache, j0 + i);
            vrow[i] = reinterpret_cast<const int8_t*>(r);
            v_scale[i] = row_scale(r);
        }
        for (int32_t h = 0; h < n_qh; ++h) {
            const int32_t end = std::min(count, n_keys[h] - j0);
            if (end <= 0) continue;
            const float* p = sc.scores.data() + size_t(h) * stride + j0;
            __m512 o[V];
            for (int v = 0; v < V; ++v) o[v] = _mm512_loadu_ps(out_heads[h] + v * 16);
            for (int32_t i = 0; i < end; ++i) {
                const __m512 pj = _mm512_set1_ps(p[i] * v_scale[i]);
                for (int v = 0; v < V; ++v) o[v] = _mm512_fmadd_ps(pj, widen_int8x16(vrow[i] + v * 16), o[v]);
            }
            for (int v = 0; v < V; ++v) _mm512_storeu_ps(out_heads[h] + v * 16, o[v]);
        }
    }
}

}  // namespace

bool paged_attention_int8_avx512_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim) {
    return (head_dim == 64 || head_dim == 128) && n_heads / n_kv_heads <= kMaxGroup;
}

void paged_attention_int8_avx512(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache,
                               const void* v_cache, float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                               int32_t block_size) {
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const auto* kc = static_cast<const uint8_t*>(k_cache);
    const auto* vc = static_cast<const uint8_t*>(v_cache);
    for_each_attention_task(pool, batch, q, out, n_heads, n_kv_heads, head_dim, kQueryChunk, kAttentionInlineBelow, [&](const attention_task& tk) {
        thread_local scratch sc;
        if (head_dim == 64) {
            attend<64>(tk.q, tk.n_keys, tk.n_heads, kc, vc, tk.blocks, block_size, n_kv_heads, tk.kv_head, scale, tk.out, sc);
        } else {
            attend<128>(tk.q, tk.n_keys, tk.n_heads, kc, vc, tk.blocks, block_size, n_kv_heads, tk.kv_head, scale, tk.out, sc);
        }
    });
}

}  // namespace olm
