// AVX2 kernels for Q8_0 / Q4_0 / Q5_0 weights against Q8 activations (matmul.h), and the activation
// quantizer both instruction sets share. Weights are widened to bytes in registers, never in
// memory; products are exact in integers, one float FMA per block and token scales them.
#include <immintrin.h>

#include <cassert>
#include <cstring>

#include "avx2-math.h"
#include "matmul.h"
#include "quant.h"

namespace olm {

namespace {

constexpr int64_t kTokenChunk = 32;  // tokens whose activations stay in L2 while rows stream by

inline const int8_t* token_qs(const q8_activations& x, int64_t t, int64_t b) { return x.qs + (t * x.blocks + b) * 32; }
inline const int32_t* token_corr(const q8_activations& x, int64_t t, int64_t b) { return x.corr + (t * x.blocks + b) * 8; }
inline const float* token_d(const q8_activations& x, int64_t t, int64_t b) { return x.d + (t * x.blocks + b) * 8; }

// 16 bytes of Q4_0 nibbles as 32 bytes 0..15 in element order (low nibbles, then high ones).
inline __m256i unpack_q4(const uint8_t* qs) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), _mm256_set1_epi8(0x0F));
}

// Q5_0's bit 4 of element i (bit i of the 32-bit qh) as 0x10 in byte i: byte i takes qh's byte
// i / 8 and tests its bit i % 8.
inline __m256i unpack_q5_high(const uint8_t* qh) {
    uint32_t h;
    std::memcpy(&h, qh, 4);
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(h)),
                                              _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit), _mm256_set1_epi8(0x10));
}

// One weight block prepared for R × TT dot products: Q8_0 keeps |w| (unsigned) and w (for the
// signs it moves onto x); Q4_0 and Q5_0 keep q = value + 8 / + 16, unsigned already.
template <dtype T>
struct weight_block {
    __m256i u, s;
    float d;
    void load(const uint8_t* block) {
        if constexpr (T == dtype::q8_0) {
            const auto* b = reinterpret_cast<const block_q8_0*>(block);
            s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->qs));
            u = _mm256_abs_epi8(s);
            d = fp16_to_fp32(b->d);
        } else if constexpr (T == dtype::q4_0) {
            const auto* b = reinterpret_cast<const block_q4_0*>(block);
            u = unpack_q4(b->qs);
            d = fp16_to_fp32(b->d);
        } else {
            const auto* b = reinterpret_cast<const block_q5_0*>(block);
            u = _mm256_or_si256(unpack_q4(b->qs), unpack_q5_high(b->qh));
            d = fp16_to_fp32(b->d);
        }
    }
    // 8 int32 lanes summing to Σ w·x (Q4_0 / Q5_0: plus the excess 8·Σx / 16·Σx, which corr cancels).
    __m256i dot(__m256i xv) const {
        const __m256i ones = _mm256_set1_epi16(1);
        if constexpr (T == dtype::q8_0) {
            return _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_sign_epi8(xv, s)), ones);
        } else {
            return _mm256_madd_epi16(_mm256_maddubs_epi16(u, xv), ones);
        }
    }
};

// R rows × TT tokens from token t0, all blocks; y[t, row + r].
template <dtype T, int R, int TT>
void block_tile(const q8_activations& x, const matrix& w, int64_t row, int64_t t0, float* y) {
    const int64_t row_bytes = w.row_bytes(), bb = dtype_block_bytes(T);
    const uint8_t* wr[R];
    for (int r = 0; r < R; ++r) wr[r] = static_cast<const uint8_t*>(w.data) + (row + r) * row_bytes;
    __m256 acc[R][TT];
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < TT; ++t) acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < x.blocks; ++b) {
        weight_block<T> wb[R];
        for (int r = 0; r < R; ++r) wb[r].load(wr[r] + b * bb);
        if (R * TT == 1) _mm_prefetch(reinterpret_cast<const char*>(wr[0] + b * bb) + 1024, _MM_HINT_T0);
        for (int t = 0; t < TT; ++t) {
            const __m256i xv = _mm256_load_si256(reinterpret_cast<const __m256i*>(token_qs(x, t0 + t, b)));
            const __m256 xd = _mm256_load_ps(token_d(x, t0 + t, b));
            __m256i corr = _mm256_setzero_si256();
            if constexpr (T != dtype::q8_0) corr = _mm256_load_si256(reinterpret_cast<const __m256i*>(token_corr(x, t0 + t, b)));
            for (int r = 0; r < R; ++r) {
                __m256i p = wb[r].dot(xv);
                if constexpr (T != dtype::q8_0) p = _mm256_add_epi32(p, corr);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(xd, _mm256_set1_ps(wb[r].d)), acc[r][t]);
            }
        }
    }
    for (int t = 0; t < TT; ++t)
        for (int r = 0; r < R; ++r) y[(t0 + t) * w.rows + row + r] = hsum(acc[r][t]);
}

template <dtype T, int R>
void row_tiles(const q8_activations& x, const matrix& w, int64_t row, int64_t t_begin, int64_t t_end, float* y) {
    int64_t t = t_begin;
    for (; t + 2 <= t_end; t += 2) block_tile<T, R, 2>(x, w, row, t, y);
    if (t < t_end) block_tile<T, R, 1>(x, w, row, t, y);
}

template <dtype T>
void rows(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    if (x.n == 1) {  // decode: one row at a time, the weights read in address order
        for (int64_t r = r0; r < r1; ++r) block_tile<T, 1, 1>(x, w, r, 0, y);
        return;
    }
    for (int64_t tc = 0; tc < x.n; tc += kTokenChunk) {
        const int64_t tc_end = tc + kTokenChunk < x.n ? tc + kTokenChunk : x.n;
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) row_tiles<T, 4>(x, w, r, tc, tc_end, y);
        for (; r < r1; ++r) row_tiles<T, 1>(x, w, r, tc, tc_end, y);
    }
}

}  // namespace

int64_t q8_activation_bytes(int64_t n, int64_t cols) { return n * (cols / 32) * (32 + 8 * 4 + 8 * 4); }

q8_activations quantize_activations(const float* x, int64_t n, int64_t cols, int32_t corr_k, void* buffer, int64_t t0,
                                    int64_t t1) {
    assert(cols % 32 == 0);
    q8_activations q;
    q.n = n;
    q.blocks = cols / 32;
    auto* qs = static_cast<int8_t*>(buffer);
    auto* corr = reinterpret_cast<int32_t*>(qs + n * cols);
    auto* d = reinterpret_cast<float*>(corr + n * q.blocks * 8);
    q.qs = qs;
    q.corr = corr;
    q.d = d;
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    for (int64_t i = t0 * q.blocks; i < t1 * q.blocks; ++i) {
        const float* src = x + i * 32;
        __m256 v[4];
        __m256 amax = _mm256_setzero_ps();
        for (int j = 0; j < 4; ++j) {
            v[j] = _mm256_loadu_ps(src + 8 * j);
            amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v[j]));
        }
        const float scale = hmax(amax) / 127.0f;
        const __m256 inv = _mm256_set1_ps(scale != 0.0f ? 1.0f / scale : 0.0f);
        __m256i q32[4];
        for (int j = 0; j < 4; ++j) q32[j] = _mm256_cvtps_epi32(_mm256_mul_ps(v[j], inv));  // round to nearest even
        // Pack 4 × 8 int32 into 32 int8 in element order (packs interleave 128-bit lanes; the
        // permute restores the order).
        const __m256i p16a = _mm256_packs_epi32(q32[0], q32[1]), p16b = _mm256_packs_epi32(q32[2], q32[3]);
        const __m256i p8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16a, p16b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_store_si256(reinterpret_cast<__m256i*>(qs + i * 32), p8);
        const __m256i sum32 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), p8), _mm256_set1_epi16(1));
        const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum32), _mm256_extracti128_si256(sum32, 1));
        const __m128i s2 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
        const int32_t sum = _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 1)));
        _mm256_store_si256(reinterpret_cast<__m256i*>(corr + i * 8), _mm256_set1_epi32(-corr_k * sum));
        _mm256_store_ps(d + i * 8, _mm256_set1_ps(scale));
    }
    return q;
}

int32_t q8_corr_k_avx2(dtype type) { return type == dtype::q4_0 ? 1 : type == dtype::q5_0 ? 2 : 0; }

void matmul_rows_q8_avx2(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    if (w.type == dtype::q8_0) {
        rows<dtype::q8_0>(x, w, r0, r1, y);
    } else if (w.type == dtype::q4_0) {
        rows<dtype::q4_0>(x, w, r0, r1, y);
    } else {
        assert(w.type == dtype::q5_0);
        rows<dtype::q5_0>(x, w, r0, r1, y);
    }
}

}  // namespace olm
