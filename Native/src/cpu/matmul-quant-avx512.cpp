// AVX-512 VNNI kernels for Q8_0 / Q4_0 / Q5_0 weights against Q8 activations (matmul.h): two blocks per
// 512-bit register, products summed by vpdpbusd (unsigned weight bytes × signed activation bytes)
// into int32 lanes that start from the activations' correction (which cancels the unsigned offset).
#include <immintrin.h>

#include <cassert>
#include <cstring>
#include <vector>

#include "matmul.h"
#include "quant.h"

namespace olm {

namespace {

constexpr int64_t kTokenChunk = 32;

inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

// Two consecutive weight blocks [b, b+1] as 64 unsigned bytes in element order, and their scales
// (block b's in lanes 0..7, b+1's in lanes 8..15). The tail (an odd block count) uses 256-bit
// halves of the same operations.
// Two fp16 block scales as floats: a in lanes 0..7, b in lanes 8..15 (one conversion, one permute).
inline __m512 scales(uint16_t a, uint16_t b) {
    const __m128 ab = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(uint32_t(a) | uint32_t(b) << 16)));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), _mm512_castps128_ps512(ab));
}

template <dtype T>
struct weight_pair {
    __m512i u;
    __m512 d;
    void load(const uint8_t* block, int64_t bb) {
        if constexpr (T == dtype::q8_0) {
            const auto* a = reinterpret_cast<const block_q8_0*>(block);
            const auto* b = reinterpret_cast<const block_q8_0*>(block + bb);
            const __m512i s = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a->qs))),
                                                 _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->qs)), 1);
            u = _mm512_xor_si512(s, _mm512_set1_epi8(static_cast<char>(0x80)));  // w + 128
            d = scales(a->d, b->d);
        } else if constexpr (T == dtype::q4_0) {
            const auto* a = reinterpret_cast<const block_q4_0*>(block);
            const auto* b = reinterpret_cast<const block_q4_0*>(block + bb);
            u = nibbles(a->qs, b->qs);
            d = scales(a->d, b->d);
        } else {
            const auto* a = reinterpret_cast<const block_q5_0*>(block);
            const auto* b = reinterpret_cast<const block_q5_0*>(block + bb);
            uint32_t ha, hb;
            std::memcpy(&ha, a->qh, 4);
            std::memcpy(&hb, b->qh, 4);
            // Bit i of the 64 is bit 4 of byte i (element i of a, then of b): q = value + 16.
            const __m512i high = _mm512_and_si512(_mm512_movm_epi8(uint64_t(ha) | uint64_t(hb) << 32), _mm512_set1_epi8(0x10));
            u = _mm512_or_si512(nibbles(a->qs, b->qs), high);
            d = scales(a->d, b->d);
        }
    }
    // The nibbles of two Q4_0-layout blocks as 64 bytes in element order.
    static __m512i nibbles(const uint8_t* qa, const uint8_t* qb) {
        const __m256i ab = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qb)), _mm_loadu_si128(reinterpret_cast<const __m128i*>(qa)));
        // 128-bit lanes [a lo, b lo, a hi, b hi] → [a lo, a hi, b lo, b hi]
        const __m512i nib = _mm512_inserti64x4(_mm512_castsi256_si512(ab), _mm256_srli_epi16(ab, 4), 1);
        return _mm512_and_si512(_mm512_shuffle_i64x2(nib, nib, _MM_SHUFFLE(3, 1, 2, 0)), _mm512_set1_epi8(0x0F));
    }
};

template <dtype T>
inline __m256i weight_bytes_256(const uint8_t* block, float* d) {
    if constexpr (T == dtype::q8_0) {
        const auto* a = reinterpret_cast<const block_q8_0*>(block);
        *d = fp16_to_fp32(a->d);
        return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a->qs)), _mm256_set1_epi8(static_cast<char>(0x80)));
    } else if constexpr (T == dtype::q4_0) {
        const auto* a = reinterpret_cast<const block_q4_0*>(block);
        *d = fp16_to_fp32(a->d);
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a->qs));
        return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), _mm256_set1_epi8(0x0F));
    } else {
        const auto* a = reinterpret_cast<const block_q5_0*>(block);
        *d = fp16_to_fp32(a->d);
        uint32_t h;
        std::memcpy(&h, a->qh, 4);
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a->qs));
        const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), _mm256_set1_epi8(0x0F));
        return _mm256_or_si256(nib, _mm256_and_si256(_mm256_movm_epi8(h), _mm256_set1_epi8(0x10)));
    }
}

// R rows × TT tokens from token t0; y[t, row + r].
template <dtype T, int R, int TT>
void block_tile(const q8_activations& x, const matrix& w, int64_t row, int64_t t0, float* y) {
    const int64_t row_bytes = w.row_bytes(), bb = dtype_block_bytes(T);
    const uint8_t* wr[R];
    for (int r = 0; r < R; ++r) wr[r] = static_cast<const uint8_t*>(w.data) + (row + r) * row_bytes;
    __m512 acc[R][TT];
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < TT; ++t) acc[r][t] = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= x.blocks; b += 2) {
        weight_pair<T> wp[R];
        for (int r = 0; r < R; ++r) wp[r].load(wr[r] + b * bb, bb);
        if (R * TT == 1) _mm_prefetch(reinterpret_cast<const char*>(wr[0] + b * bb) + 1024, _MM_HINT_T0);
        for (int t = 0; t < TT; ++t) {
            const int64_t i = (t0 + t) * x.blocks + b;
            const __m512i xv = _mm512_loadu_si512(x.qs + i * 32);
            const __m512i corr = _mm512_loadu_si512(x.corr + i * 8);
            const __m512 xd = _mm512_loadu_ps(x.d + i * 8);
            for (int r = 0; r < R; ++r) {
                const __m512i p = _mm512_dpbusd_epi32(corr, wp[r].u, xv);
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(xd, wp[r].d), acc[r][t]);
            }
        }
    }
    float tail[R][TT] = {};
    if (b < x.blocks) {  // an odd block count: the last block alone
        for (int r = 0; r < R; ++r) {
            float d;
            const __m256i u = weight_bytes_256<T>(wr[r] + b * bb, &d);
            for (int t = 0; t < TT; ++t) {
                const int64_t i = (t0 + t) * x.blocks + b;
                const __m256i p = _mm256_dpbusd_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(x.corr + i * 8)), u,
                                                      _mm256_load_si256(reinterpret_cast<const __m256i*>(x.qs + i * 32)));
                const __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * x.d[i * 8]));
                const __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
                const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
                tail[r][t] = _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
            }
        }
    }
    for (int t = 0; t < TT; ++t)
        for (int r = 0; r < R; ++r) y[(t0 + t) * w.rows + row + r] = hsum512(acc[r][t]) + tail[r][t];
}

// Decode: one row at a time (the weights read in address order, one stream per thread), two
// block pairs per step into two accumulators so that consecutive FMAs do not wait on each other.
template <dtype T>
void decode_row(const q8_activations& x, const matrix& w, int64_t row, float* y) {
    const int64_t bb = dtype_block_bytes(T);
    const uint8_t* wr = static_cast<const uint8_t*>(w.data) + row * w.row_bytes();
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const auto pair = [&](int64_t b, __m512& acc) {
        weight_pair<T> wp;
        wp.load(wr + b * bb, bb);
        const __m512i p = _mm512_dpbusd_epi32(_mm512_loadu_si512(x.corr + b * 8), wp.u, _mm512_loadu_si512(x.qs + b * 32));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(_mm512_loadu_ps(x.d + b * 8), wp.d), acc);
    };
    int64_t b = 0;
    for (; b + 4 <= x.blocks; b += 4) {
        _mm_prefetch(reinterpret_cast<const char*>(wr + b * bb) + 1024, _MM_HINT_T0);
        pair(b, acc0);
        pair(b + 2, acc1);
    }
    if (b + 2 <= x.blocks) {
        pair(b, acc0);
        b += 2;
    }
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    if (b < x.blocks) {  // an odd block count: the last block alone
        float d;
        const __m256i u = weight_bytes_256<T>(wr + b * bb, &d);
        const __m256i p = _mm256_dpbusd_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(x.corr + b * 8)), u,
                                              _mm256_load_si256(reinterpret_cast<const __m256i*>(x.qs + b * 32)));
        const __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * x.d[b * 8]));
        const __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
        const __m128 h2 = _mm_add_ps(h, _mm_movehl_ps(h, h));
        sum += _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
    }
    y[row] = sum;
}

template <dtype T, int R>
void row_tiles(const q8_activations& x, const matrix& w, int64_t row, int64_t t_begin, int64_t t_end, float* y) {
    int64_t t = t_begin;
    for (; t + 2 <= t_end; t += 2) block_tile<T, R, 2>(x, w, row, t, y);
    if (t < t_end) block_tile<T, R, 1>(x, w, row, t, y);
}

template <dtype T>
void rows(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    if (x.n == 1) {
        for (int64_t r = r0; r < r1; ++r) decode_row<T>(x, w, r, y);
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

void dequantize_rows_bf16_avx512(const matrix& w, int64_t r0, int64_t r1, uint16_t* out) {
    if (w.type == dtype::q4_k || w.type == dtype::q6_k) {
        const int64_t blocks = w.cols / kSuperBlock, bb = dtype_block_bytes(w.type);
        for (int64_t r = r0; r < r1; ++r) {
            const uint8_t* row = static_cast<const uint8_t*>(w.data) + r * w.row_bytes();
            for (int64_t b = 0; b < blocks; ++b, out += kSuperBlock) dequantize_k_block_bf16_avx512(w.type, row + b * bb, out);
        }
        return;
    }
    if (w.type != dtype::q8_0 && w.type != dtype::q4_0) {  // Q5_0, Q5_1: the scalar dequantizer, then BF16
        thread_local std::vector<float> row;
        row.resize(static_cast<size_t>(w.cols));
        for (int64_t r = r0; r < r1; ++r, out += w.cols) {
            dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + r * w.row_bytes(), row.data(), w.cols);
            to_bf16_avx512(row.data(), w.cols, out);
        }
        return;
    }
    const int64_t bb = dtype_block_bytes(w.type), blocks = w.cols / 32;
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = static_cast<const uint8_t*>(w.data) + r * w.row_bytes();
        for (int64_t b = 0; b < blocks; ++b, out += 32) {
            const uint8_t* block = row + b * bb;
            __m512i q0, q1;  // elements 0..15 and 16..31 as int32
            if (w.type == dtype::q8_0) {
                const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
                q0 = _mm512_cvtepi8_epi32(_mm256_castsi256_si128(q));
                q1 = _mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1));
            } else {
                const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
                const __m128i mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
                q0 = _mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(v, mask), eight));
                q1 = _mm512_cvtepi8_epi32(_mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), mask), eight));
            }
            uint16_t d16;
            std::memcpy(&d16, block, 2);
            const __m512 d = _mm512_set1_ps(fp16_to_fp32(d16));
            const __m512bh lo_hi = _mm512_cvtne2ps_pbh(_mm512_mul_ps(_mm512_cvtepi32_ps(q1), d), _mm512_mul_ps(_mm512_cvtepi32_ps(q0), d));
            _mm512_storeu_si512(out, reinterpret_cast<const __m512i&>(lo_hi));
        }
    }
}

// Unsigned weights: Q4_0 is value + 8, Q5_0 value + 16, Q8_0 (xor 0x80) value + 128; corr_k · 8 lanes.
int32_t q8_corr_k_avx512_vnni(dtype type) { return type == dtype::q4_0 ? 1 : type == dtype::q5_0 ? 2 : 16; }

void matmul_rows_q8_avx512_vnni(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
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
