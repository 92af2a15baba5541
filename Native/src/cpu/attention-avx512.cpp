// AVX-512 attention for batches that carry a prompt (some sequence has several queries), over an
// F32, BF16 or kv_int8 cache: one task per (sequence, KV head, chunk of queries), whose query
// heads (the chunk's queries × the heads sharing the KV head, up to 32) are the lanes of two
// registers. Each multiply-add then does 16 useful products with nothing to reduce across lanes:
//   scores:  s[j][lane] += q[d][lane] · k[j][d]   (q transposed once per task, k[j][d] broadcast)
//   output:  o[d][lane] += p[j][lane] · v[j][d]   (v[j][d] broadcast)
// and the softmax runs down the keys, lane by lane, with the causal limit as a lane mask. K and V
// rows are widened to float a tile at a time (BF16, int8 times its row scale); F32 rows are read
// in place. Decode batches (one query per sequence) keep attention-avx2.cpp's and the int8
// kernels' layout, whose lanes run along head_dim: their tasks have only `group` query heads.
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

constexpr int32_t kLanes = 32;    // query heads per task
constexpr int32_t kKeyTile = 64;  // K or V rows widened at a time
constexpr int32_t kMaxGroup = 8;

struct scratch {
    aligned_vector<float> qt;    // [HD][kLanes]: the task's queries, pre-scaled, lane = query head
    aligned_vector<float> p;     // [keys][kLanes]: scores, then exponentials
    aligned_vector<float> ot;    // [HD][kLanes]: unnormalised outputs
    aligned_vector<float> rows;  // [kKeyTile][HD]: K or V rows widened to float
};

// One KV head's rows in a sequence's paged cache of type T.
template <dtype T, int HD>
struct head_rows {
    const uint8_t* cache;
    const int32_t* blocks;
    int32_t block_size;
    int32_t n_kv_heads;
    int32_t kvh;

    const uint8_t* row(int32_t j) const {
        const int64_t slot = int64_t(blocks[j / block_size]) * block_size + j % block_size;
        return cache + (slot * n_kv_heads + kvh) * kv_row_bytes(T, HD);
    }

    // Rows [j0, j0 + n) (n <= kKeyTile) as float pointers: F32 rows in place, others widened into buf.
    void as_f32(int32_t j0, int32_t n, float* buf, const float** out) const {
        for (int32_t i = 0; i < n; ++i) {
            const uint8_t* src = row(j0 + i);
            if constexpr (T == dtype::f32) {
                out[i] = reinterpret_cast<const float*>(src);
                continue;
            }
            float* dst = buf + size_t(i) * HD;
            for (int v = 0; v < HD / 16; ++v) {
                if constexpr (T == dtype::bf16) {
                    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src) + v);
                    _mm512_store_ps(dst + v * 16, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)));
                } else {
                    float scale;
                    std::memcpy(&scale, src + HD, sizeof(float));
                    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src) + v);
                    _mm512_store_ps(dst + v * 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)), _mm512_set1_ps(scale)));
                }
            }
            out[i] = dst;
        }
    }
};

// 16 rows of 16 floats transposed in registers: r[i] lane j becomes r[j] lane i.
inline void transpose16(__m512 (&r)[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // r[4g + c]: column c + 4k of rows 4g..4g+3 in 128-bit lane k
    for (int g = 0; g < 4; ++g) {
        r[4 * g] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {
        const __m512 u0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88), u1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
        const __m512 u2 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88), u3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
        t[c] = _mm512_shuffle_f32x4(u0, u2, 0x88);
        t[c + 8] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
        t[c + 4] = _mm512_shuffle_f32x4(u1, u3, 0x88);
        t[c + 12] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
    }
    for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// The task's query heads (lanes [0, n_lanes); NV registers of 16) against their causal prefixes:
// n_keys[lane] keys each (0 for the lanes past n_lanes).
template <dtype T, int HD, int NV>
void attend(const float* const* q_lanes, const int32_t* n_keys, int32_t n_lanes, const head_rows<T, HD>& k,
            const head_rows<T, HD>& v, float scale, float* const* out_lanes, scratch& sc) {
    const int32_t max_keys = *std::max_element(n_keys, n_keys + n_lanes);
    sc.qt.resize(size_t(HD) * kLanes);
    sc.p.resize(size_t(max_keys + 7) * kLanes);
    sc.ot.resize(size_t(HD) * kLanes);
    sc.rows.resize(size_t(kKeyTile) * HD);
    float* const qt = sc.qt.data();
    float* const p = sc.p.data();
    float* const ot = sc.ot.data();
    for (int h = 0; h < NV; ++h)
        for (int32_t d0 = 0; d0 < HD; d0 += 16) {
            __m512 r[16];
            for (int32_t i = 0; i < 16; ++i)
                r[i] = 16 * h + i < n_lanes ? _mm512_mul_ps(_mm512_loadu_ps(q_lanes[16 * h + i] + d0), _mm512_set1_ps(scale))
                                            : _mm512_setzero_ps();
            transpose16(r);
            for (int32_t i = 0; i < 16; ++i) _mm512_store_ps(qt + size_t(d0 + i) * kLanes + 16 * h, r[i]);
        }
    __m512i limit[NV];
    __m512 mx[NV];
    for (int h = 0; h < NV; ++h) limit[h] = _mm512_loadu_si512(n_keys + 16 * h), mx[h] = _mm512_set1_ps(-INFINITY);

    // Scores, eight keys at a time (the last eight may repeat a valid row; what is past max_keys
    // is not stored).
    const float* rows[kKeyTile];
    for (int32_t j0 = 0; j0 < max_keys; j0 += kKeyTile) {
        const int32_t count = std::min(kKeyTile, max_keys - j0);
        k.as_f32(j0, count, sc.rows.data(), rows);
        for (int32_t i0 = 0; i0 < count; i0 += 8) {
            const float* kr[8];
            for (int i = 0; i < 8; ++i) kr[i] = rows[std::min(i0 + i, count - 1)];
            __m512 acc[8][NV];
            for (int i = 0; i < 8; ++i)
                for (int h = 0; h < NV; ++h) acc[i][h] = _mm512_setzero_ps();
            for (int32_t d = 0; d < HD; ++d) {
                __m512 qv[NV];
                for (int h = 0; h < NV; ++h) qv[h] = _mm512_load_ps(qt + d * kLanes + 16 * h);
                for (int i = 0; i < 8; ++i) {
                    const __m512 kd = _mm512_set1_ps(kr[i][d]);
                    for (int h = 0; h < NV; ++h) acc[i][h] = _mm512_fmadd_ps(qv[h], kd, acc[i][h]);
                }
            }
            for (int i = 0; i < std::min(8, count - i0); ++i) {
                const __m512i j = _mm512_set1_epi32(j0 + i0 + i);
                for (int h = 0; h < NV; ++h) {
                    _mm512_store_ps(p + size_t(j0 + i0 + i) * kLanes + 16 * h, acc[i][h]);
                    mx[h] = _mm512_mask_max_ps(mx[h], _mm512_cmplt_epi32_mask(j, limit[h]), mx[h], acc[i][h]);
                }
            }
        }
    }

    // Softmax down the keys, each lane to its own limit (the max taken above); the 1 / sum is
    // applied to the outputs.
    __m512 inv[NV];
    for (int h = 0; h < NV; ++h) {
        __m512 sum = _mm512_setzero_ps();
        for (int32_t j = 0; j < max_keys; ++j) {
            float* pj = p + size_t(j) * kLanes + 16 * h;
            const __mmask16 in = _mm512_cmplt_epi32_mask(_mm512_set1_epi32(j), limit[h]);
            const __m512 e = _mm512_maskz_mov_ps(in, exp_ps_avx512(_mm512_sub_ps(_mm512_load_ps(pj), mx[h])));
            _mm512_store_ps(pj, e);
            sum = _mm512_add_ps(sum, e);
        }
        // lanes with no keys (padding) have sum 0 and are not written
        inv[h] = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(sum, _mm512_setzero_ps(), _CMP_GT_OQ), _mm512_set1_ps(1.0f), sum);
    }

    // Outputs, a tile of V rows at a time, 16 / NV dimensions × NV lane registers per pass.
    constexpr int DT = 16 / NV;
    for (int32_t j0 = 0; j0 < max_keys; j0 += kKeyTile) {
        const int32_t count = std::min(kKeyTile, max_keys - j0);
        v.as_f32(j0, count, sc.rows.data(), rows);
        for (int32_t d0 = 0; d0 < HD; d0 += DT) {
            __m512 acc[DT][NV];
            for (int i = 0; i < DT; ++i)
                for (int h = 0; h < NV; ++h) acc[i][h] = j0 == 0 ? _mm512_setzero_ps() : _mm512_load_ps(ot + size_t(d0 + i) * kLanes + 16 * h);
            for (int32_t j = 0; j < count; ++j) {
                __m512 pv[NV];
                for (int h = 0; h < NV; ++h) pv[h] = _mm512_load_ps(p + size_t(j0 + j) * kLanes + 16 * h);
                for (int i = 0; i < DT; ++i) {
                    const __m512 vd = _mm512_set1_ps(rows[j][d0 + i]);
                    for (int h = 0; h < NV; ++h) acc[i][h] = _mm512_fmadd_ps(pv[h], vd, acc[i][h]);
                }
            }
            for (int i = 0; i < DT; ++i)
                for (int h = 0; h < NV; ++h) _mm512_store_ps(ot + size_t(d0 + i) * kLanes + 16 * h, acc[i][h]);
        }
    }
    alignas(64) float inv_lanes[kLanes];
    for (int h = 0; h < NV; ++h) _mm512_store_ps(inv_lanes + 16 * h, inv[h]);
    for (int h = 0; h < NV; ++h)
        for (int32_t d0 = 0; d0 < HD; d0 += 16) {
            __m512 r[16];
            for (int32_t i = 0; i < 16; ++i) r[i] = _mm512_load_ps(ot + size_t(d0 + i) * kLanes + 16 * h);
            transpose16(r);
            for (int32_t i = 0; i < 16 && 16 * h + i < n_lanes; ++i)
                _mm512_storeu_ps(out_lanes[16 * h + i] + d0, _mm512_mul_ps(r[i], _mm512_set1_ps(inv_lanes[16 * h + i])));
        }
}

template <dtype T>
void run_tasks(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache, const void* v_cache, float* out,
               int32_t n_heads, int32_t n_kv_heads, int32_t head_dim, int32_t block_size) {
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const auto* kc = static_cast<const uint8_t*>(k_cache);
    const auto* vc = static_cast<const uint8_t*>(v_cache);
    const int32_t chunk = kLanes / (n_heads / n_kv_heads);  // queries per task
    for_each_attention_task(pool, batch, q, out, n_heads, n_kv_heads, head_dim, chunk, kAttentionInlineBelow, [&](const attention_task& tk) {
        thread_local scratch sc;
        const auto with = [&](auto hd_const) {
            constexpr int HD = decltype(hd_const)::value;
            const head_rows<T, HD> k{kc, tk.blocks, block_size, n_kv_heads, tk.kv_head}, v{vc, tk.blocks, block_size, n_kv_heads, tk.kv_head};
            if (tk.n_heads > 16) {
                attend<T, HD, 2>(tk.q, tk.n_keys, tk.n_heads, k, v, scale, tk.out, sc);
            } else {
                attend<T, HD, 1>(tk.q, tk.n_keys, tk.n_heads, k, v, scale, tk.out, sc);
            }
        };
        if (head_dim == 64) {
            with(std::integral_constant<int, 64>{});
        } else {
            with(std::integral_constant<int, 128>{});
        }
    });
}

}  // namespace

bool paged_attention_avx512_supports(int32_t n_heads, int32_t n_kv_heads, int32_t head_dim) {
    return (head_dim == 64 || head_dim == 128) && n_heads / n_kv_heads <= kMaxGroup;
}

void paged_attention_avx512(thread_pool& pool, const batch_view& batch, const float* q, const void* k_cache, const void* v_cache,
                            float* out, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim, int32_t block_size, dtype kv_type) {
    switch (kv_type) {
        case dtype::f32: run_tasks<dtype::f32>(pool, batch, q, k_cache, v_cache, out, n_heads, n_kv_heads, head_dim, block_size); break;
        case dtype::bf16: run_tasks<dtype::bf16>(pool, batch, q, k_cache, v_cache, out, n_heads, n_kv_heads, head_dim, block_size); break;
        default: run_tasks<dtype::kv_int8>(pool, batch, q, k_cache, v_cache, out, n_heads, n_kv_heads, head_dim, block_size); break;
    }
}

}  // namespace olm
