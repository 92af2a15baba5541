// Decode over the K types' packed layout (k-decode.h): 16 rows per register, the token's 4
// activation bytes of one k-quad broadcast, so each vpdpbusd does 64 multiply-adds that need no
// reduction across lanes. Per 32-element sub-block the int32 sums are multiplied by the rows'
// integer sub-block scales (vpmulld) and summed over the super-block in int32; one convert and
// FMA per super-block apply d · d_x. Q4_K's mins meet the activations' sums per 32 through
// vpdpwssd; Q6_K's − 32 starts each sub-block's sum at −32 · (its activations' sum).
//
// Against the row kernels (matmul-quant-k-avx512.cpp), per 16 rows × 256 weights: no packing to
// int16, no permutes, no scale unpacking, no reduction; and 2 row groups from the 2 halves of the
// task's range are read side by side (2 address streams), sharing each activation broadcast.
#include <immintrin.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "avx512-math.h"
#include "k-decode.h"
#include "quant.h"

namespace olm {

namespace {

using namespace k_layout;

// Software prefetch kPrefetchBlocks super-blocks ahead of each stream: at step js (0..7) of a
// super-block, its share of the lines (all of them over the 8 steps). Each record is read out of
// order (the vectors, then the scales at its end), which the hardware prefetchers followed badly:
// bench-kernels BM_DecodeStream (2 threads, matrices from DRAM) ran Q4_K at 46.8 and Q6_K at 38.6
// GB/s without, 49.5–52.9 and 48.7–51.1 with it. With matmul's guided task sizes for one token
// (longer runs per stream), 1 block ahead ran the engine 3–4% faster than 2 and ~12% faster than
// none; 3 ahead, and a second prefetch into L2 only 6 or 12 blocks ahead, ran slower
// (bench-decode-profile on llama3-1b Q4_K_M, 2 threads, binaries alternating).
constexpr int64_t kPrefetchBlocks = 1;
template <int64_t Bytes>
inline void prefetch_ahead(const uint8_t* block, int js) {
    constexpr int64_t lines = (Bytes + 63) / 64, per_step = (lines + 7) / 8;
    for (int64_t l = js * per_step; l < (js + 1) * per_step && l < lines; ++l)
        _mm_prefetch(reinterpret_cast<const char*>(block + kPrefetchBlocks * Bytes + 64 * l), _MM_HINT_T0);
}

// One super-block of S row groups (p[k]: group k's record) into acc[k]: the 16 rows' dot products.
// The groups are read side by side, 256 bytes of each in turn, so that their S address streams
// advance together (one group's whole super-block, then the next's, ran decode at 0.87–1.0× the
// row kernels instead of 1.11–1.16×). Not inlined, and acc in memory: inlined into the loop over
// super-blocks, the accumulators of all groups and the activation broadcasts did not fit the 32
// registers, and the spills cost a third of the kernel's speed in the L2.
template <int S>
__attribute__((noinline)) void q4_k_blocks(const q8k_activations& x, int64_t b, const uint8_t* const (&p)[S], __m512 (&acc)[S]) {
    const __m512i low = _mm512_set1_epi8(0x0F);
    const int8_t* xq = x.qs + b * kSuperBlock;
    __m512i sum[S];
    for (int k = 0; k < S; ++k) sum[k] = _mm512_setzero_si512();
#pragma GCC unroll 1
    for (int js = 0; js < 8; ++js) {
        __m512i lo[S], hi[S];
        for (int k = 0; k < S; ++k) {
            prefetch_ahead<kQ4kBytes>(p[k], js);
            lo[k] = hi[k] = _mm512_setzero_si512();
        }
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) {
            const __m512i a_lo = broadcast_word(xq + 32 * js + 4 * v), a_hi = broadcast_word(xq + 32 * js + 16 + 4 * v);
            for (int k = 0; k < S; ++k) {
                const __m512i q = _mm512_load_si512(p[k] + 256 * js + 64 * v);
                lo[k] = _mm512_dpbusd_epi32(lo[k], _mm512_and_si512(q, low), a_lo);
                // the high nibbles stay in place (16 · q): their sum is shifted back once
                hi[k] = _mm512_dpbusd_epi32(hi[k], _mm512_andnot_si512(low, q), a_hi);
            }
        }
        for (int k = 0; k < S; ++k) {
            const __m512i sc = _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(p[k] + kQ4kScales + 16 * js)));
            sum[k] = _mm512_add_epi32(sum[k], _mm512_mullo_epi32(_mm512_add_epi32(lo[k], _mm512_srai_epi32(hi[k], 4)), sc));
        }
    }
    const __m512 dx = _mm512_set1_ps(x.d[b]);
    for (int k = 0; k < S; ++k) {
        // Σ_j m_j · (sum of sub-block j's activations), two sub-blocks per vpdpwssd
        __m512i mins = _mm512_setzero_si512();
        for (int pair = 0; pair < 4; ++pair) {
            int32_t sums;
            std::memcpy(&sums, x.bsums32 + b * 8 + 2 * pair, 4);
            const __m512i m = _mm512_cvtepu8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(p[k] + kQ4kMins + 32 * pair)));
            mins = _mm512_dpwssd_epi32(mins, m, _mm512_set1_epi32(sums));
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(p[k] + kQ4kD)));
        const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(p[k] + kQ4kDmin)));
        acc[k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[k]), _mm512_mul_ps(d, dx), acc[k]);
        acc[k] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_mul_ps(dmin, dx), acc[k]);
    }
}

// The top 2 bits of vector v's bytes (bits 2v, 2v + 1 of `tops`) moved to bits 4, 5 and masked.
// 16-bit shifts: what crosses into a neighbouring byte lands outside bits 4, 5.
inline __m512i top_bits(__m512i tops, int v) {
    const __m512i mask = _mm512_set1_epi8(0x30);
    switch (v) {
        case 0: return _mm512_and_si512(_mm512_slli_epi16(tops, 4), mask);
        case 1: return _mm512_and_si512(_mm512_slli_epi16(tops, 2), mask);
        case 2: return _mm512_and_si512(tops, mask);
        default: return _mm512_and_si512(_mm512_srli_epi16(tops, 2), mask);
    }
}

template <int S>
__attribute__((noinline)) void q6_k_blocks(const q8k_activations& x, int64_t b, const uint8_t* const (&p)[S], __m512 (&acc)[S]) {
    const __m512i low = _mm512_set1_epi8(0x0F);
    const int8_t* xq = x.qs + b * kSuperBlock;
    __m512i sum[S];
    for (int k = 0; k < S; ++k) sum[k] = _mm512_setzero_si512();
#pragma GCC unroll 1
    for (int js = 0; js < 8; ++js) {
        // Σ (q − 32) · a = Σ q · a − 32 · Σ a: each sub-block's sum starts at −32 · Σ a
        const __m512i start_lo = _mm512_set1_epi32(-32 * int32_t(x.bsums[b * 16 + 2 * js]));
        const __m512i start_hi = _mm512_set1_epi32(-32 * int32_t(x.bsums[b * 16 + 2 * js + 1]));
        __m512i lo[S], hi[S];
        for (int k = 0; k < S; ++k) {
            prefetch_ahead<kQ6kBytes>(p[k], js);
            lo[k] = start_lo;
            hi[k] = start_hi;
        }
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) {
            const __m512i a_lo = broadcast_word(xq + 32 * js + 4 * v), a_hi = broadcast_word(xq + 32 * js + 16 + 4 * v);
            for (int k = 0; k < S; ++k) {
                const uint8_t* pair = p[k] + kQ6kPairBytes * js;
                const __m512i q = _mm512_load_si512(pair + 64 * v);
                // (nibble & 0x0F) | top: vpternlogd (a & c) | b
                const __m512i q_lo = _mm512_ternarylogic_epi32(q, top_bits(_mm512_load_si512(pair + kQ6kTops), v), low, 0xEC);
                const __m512i q_hi =
                    _mm512_ternarylogic_epi32(_mm512_srli_epi16(q, 4), top_bits(_mm512_load_si512(pair + kQ6kTops + 64), v), low, 0xEC);
                lo[k] = _mm512_dpbusd_epi32(lo[k], q_lo, a_lo);
                hi[k] = _mm512_dpbusd_epi32(hi[k], q_hi, a_hi);
            }
        }
        for (int k = 0; k < S; ++k) {
            const auto* scales = reinterpret_cast<const __m128i*>(p[k] + kQ6kScales + 32 * js);
            sum[k] = _mm512_add_epi32(sum[k], _mm512_mullo_epi32(lo[k], _mm512_cvtepi8_epi32(_mm_load_si128(scales))));
            sum[k] = _mm512_add_epi32(sum[k], _mm512_mullo_epi32(hi[k], _mm512_cvtepi8_epi32(_mm_load_si128(scales + 1))));
        }
    }
    const __m512 dx = _mm512_set1_ps(x.d[b]);
    for (int k = 0; k < S; ++k) {
        const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(p[k] + kQ6kD)));
        acc[k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[k]), _mm512_mul_ps(d, dx), acc[k]);
    }
}

template <dtype T, int S>
void streams(const q8k_activations& x, const matrix& w, int64_t& g0, int64_t g1, float* y) {
    if (g1 - g0 < S) return;
    const auto* packed = static_cast<const uint8_t*>(w.decode_packed);
    const int64_t group_bytes = x.blocks * (T == dtype::q4_k ? kQ4kBytes : kQ6kBytes);
    const int64_t span = (g1 - g0) / S;
    for (int64_t i = 0; i < span; ++i) {
        const uint8_t* gw[S];
        __m512 acc[S];
        for (int k = 0; k < S; ++k) {
            gw[k] = packed + (g0 + k * span + i) * group_bytes;
            acc[k] = _mm512_setzero_ps();
        }
        for (int64_t b = 0; b < x.blocks; ++b) {
            const uint8_t* p[S];
            if constexpr (T == dtype::q4_k) {
                for (int k = 0; k < S; ++k) p[k] = gw[k] + b * kQ4kBytes;
                q4_k_blocks<S>(x, b, p, acc);
            } else {
                for (int k = 0; k < S; ++k) p[k] = gw[k] + b * kQ6kBytes;
                q6_k_blocks<S>(x, b, p, acc);
            }
        }
        for (int k = 0; k < S; ++k) {
            const int64_t row = (g0 + k * span + i) * kKDecodeGroupRows, valid = std::min<int64_t>(kKDecodeGroupRows, w.rows - row);
            const __mmask16 m = valid >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << valid) - 1);
            _mm512_mask_storeu_ps(y + row, m, acc[k]);
        }
    }
    g0 += S * span;
}

template <dtype T>
void groups(const q8k_activations& x, const matrix& w, int64_t g0, int64_t g1, float* y) {
    // 2 streams per thread, not 4 as the Q8_0 / Q4_0 decode: with matmul's guided task sizes for
    // one token, 4 ran llama3-1b Q4_K_M decode 2–4% slower when the machine's bandwidth was low
    // and ~14% slower when it was high (bench-decode-profile, 2 threads, binaries alternating); 1
    // stream ran 5% slower than 2. (For Q4_0 the reverse held: 2 ran 5% slower than its 4.)
    streams<T, 2>(x, w, g0, g1, y);
    streams<T, 1>(x, w, g0, g1, y);
}

}  // namespace

void k_decode_rows_avx512_vnni(const q8k_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    assert(w.decode_packed != nullptr && r0 % kKDecodeGroupRows == 0);
    const int64_t g0 = r0 / kKDecodeGroupRows, g1 = (r1 + kKDecodeGroupRows - 1) / kKDecodeGroupRows;
    if (w.type == dtype::q4_k) {
        groups<dtype::q4_k>(x, w, g0, g1, y);
    } else {
        assert(w.type == dtype::q6_k);
        groups<dtype::q6_k>(x, w, g0, g1, y);
    }
}

}  // namespace olm
