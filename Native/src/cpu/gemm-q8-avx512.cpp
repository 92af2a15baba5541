// The int8 GEMM (gemm-q8.h), for Q8_0, Q4_0, Q4_K and Q6_K: 16 rows per register, one token's 4 activation bytes broadcast, so
// each vpdpbusd does 64 multiply-adds that need no reduction across lanes; int32 sums per block
// (started from the activations' correction), then one convert, multiply and FMA per block scale
// them into float accumulators. Register tile: 2 row groups × 4 tokens. The loops over the tile
// must be unrolled, so that the sums live in registers: the Release build's -O3 does (-O2 runs
// at less than half the speed).
#include <immintrin.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <type_traits>

#include "avx512-math.h"
#include "gemm-q8.h"

namespace olm {

namespace {

constexpr int kTileGroups = 2;
constexpr int kTileTokens = 4;
// Cache blocking: blocks per k-chunk (a row-group pair's weights of one chunk stay in L1 while
// the token tiles pass; the float sums go through y between chunks) and tokens per pass over the
// row groups (their activations of one chunk stay in L2).
constexpr int64_t kChunkBlocks = 16;
constexpr int64_t kTokenBlock = 128;

template <dtype T>
constexpr int64_t kVectors = T == dtype::q4_0 || T == dtype::q4_k ? 4 : 8;
// The per-row floats after the vectors: scales (Q4_K: and mins; Q6_K: two halves, two int32 excesses).
template <dtype T>
constexpr int64_t kRowWords = T == dtype::q6_k ? 4 : T == dtype::q4_k ? 2 : 1;
template <dtype T>
constexpr int64_t kPackedBlockBytes = kVectors<T> * 64 + kRowWords<T> * kGemmGroupRows * 4;
template <dtype T>
constexpr bool kNibbles = T == dtype::q4_0 || T == dtype::q4_k;

// Q4_0's layout differs (gemm-q8.h): blocks in chunks of 8, each chunk's vectors, then its fp16
// scales. Where block b of a row group's record (`group`, of `blocks` blocks) has its vectors and
// its 16 scales, and the bytes of one group's record.
template <dtype T>
int64_t group_bytes(int64_t blocks) {
    return T == dtype::q4_0 ? q4_0_group_bytes(blocks) : blocks * kPackedBlockBytes<T>;
}
template <dtype T>
inline const uint8_t* block_vectors(const uint8_t* group, int64_t b) {
    if constexpr (T == dtype::q4_0) return group + q4_0_vectors_offset(b);
    return group + b * kPackedBlockBytes<T>;
}
template <dtype T>
inline __m512 block_scales(const uint8_t* group, int64_t blocks, int64_t b) {
    if constexpr (T == dtype::q4_0)
        return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(group + q4_0_scales_offset(blocks, b))));
    return _mm512_load_ps(group + b * kPackedBlockBytes<T> + kVectors<T> * 64);
}

// One 32-element block of Q6_K for G row groups × TT tokens: the weights are signed (q − 32), so the
// activations are made unsigned (+ 128, xor 0x80) and the excess that adds, 128 · Σ(q − 32) per row
// and half, is where the sums start; each 16-element half has its own row scale.
template <int G, int TT>
inline void q6_k_block(const q8_activations& x, const uint8_t* const* wg, int64_t t0, int64_t b, __m512 (&acc)[G][TT]) {
    constexpr int64_t bytes = kPackedBlockBytes<dtype::q6_k>;
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    // one half at a time, scaled into the float accumulators before the next: two halves' int32
    // sums at once (16 registers beside the 8 accumulators) spilled and ran at a third of the speed
    for (int h = 0; h < 2; ++h) {
        __m512i s[G][TT];
        for (int g = 0; g < G; ++g) {
            const __m512i excess = _mm512_load_si512(wg[g] + b * bytes + 8 * 64 + (2 + h) * kGemmGroupRows * 4);
            const __m512i start = _mm512_sub_epi32(_mm512_setzero_si512(), excess);
            for (int t = 0; t < TT; ++t) s[g][t] = start;
        }
        for (int j = 4 * h; j < 4 * h + 4; ++j) {
            __m512i w[G];
            for (int g = 0; g < G; ++g) w[g] = _mm512_load_si512(wg[g] + b * bytes + j * 64);
            for (int t = 0; t < TT; ++t) {
                const __m512i a = _mm512_xor_si512(broadcast_word(x.qs + ((t0 + t) * x.blocks + b) * 32 + 4 * j), flip);
                for (int g = 0; g < G; ++g) s[g][t] = _mm512_dpbusd_epi32(s[g][t], a, w[g]);
            }
        }
        for (int g = 0; g < G; ++g) {
            const __m512 dw = _mm512_load_ps(reinterpret_cast<const float*>(wg[g] + b * bytes + 8 * 64) + h * kGemmGroupRows);
            for (int t = 0; t < TT; ++t) {
                const __m512 da = _mm512_set1_ps(x.d[((t0 + t) * x.blocks + b) * 8]);
                acc[g][t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s[g][t]), dw), da, acc[g][t]);
            }
        }
    }
}

// G row groups from `group` × TT tokens from t0, blocks [b0, b1); adds into y unless `first`.
template <dtype T, int G, int TT>
void tile(const q8_activations& x, const uint8_t* packed, int64_t rows, int64_t group, int64_t t0, int64_t b0, int64_t b1,
          bool first, float* y) {
    const int64_t blocks = x.blocks;
    const uint8_t* wg[G];
    for (int g = 0; g < G; ++g) wg[g] = packed + (group + g) * group_bytes<T>(blocks);
    __m512 acc[G][TT];
    for (int g = 0; g < G; ++g)
        for (int t = 0; t < TT; ++t) acc[g][t] = _mm512_setzero_ps();
    const __m512i low = _mm512_set1_epi8(0x0F);
    for (int64_t b = b0; b < b1; ++b) {
        if constexpr (T == dtype::q6_k) {
            q6_k_block<G, TT>(x, wg, t0, b, acc);
            continue;
        }
        __m512i s[G][TT];
        for (int t = 0; t < TT; ++t) {
            // Q4_K's q needs no correction (unsigned as stored); its min is applied in float below
            const __m512i corr = T == dtype::q4_k ? _mm512_setzero_si512() : _mm512_set1_epi32(x.corr[((t0 + t) * blocks + b) * 8]);
            for (int g = 0; g < G; ++g) s[g][t] = corr;
        }
        if constexpr (kNibbles<T>) {
            for (int j = 0; j < 4; ++j) {
                __m512i lo[G], hi[G];
                for (int g = 0; g < G; ++g) {
                    const __m512i p = _mm512_load_si512(block_vectors<T>(wg[g], b) + j * 64);
                    lo[g] = _mm512_and_si512(p, low);
                    hi[g] = _mm512_and_si512(_mm512_srli_epi16(p, 4), low);
                }
                for (int t = 0; t < TT; ++t) {
                    const int8_t* q = x.qs + ((t0 + t) * blocks + b) * 32;
                    const __m512i a_lo = broadcast_word(q + 4 * j), a_hi = broadcast_word(q + 16 + 4 * j);
                    for (int g = 0; g < G; ++g) {
                        s[g][t] = _mm512_dpbusd_epi32(s[g][t], lo[g], a_lo);
                        s[g][t] = _mm512_dpbusd_epi32(s[g][t], hi[g], a_hi);
                    }
                }
            }
        } else {
            for (int j = 0; j < 8; ++j) {
                __m512i w[G];
                for (int g = 0; g < G; ++g) w[g] = _mm512_load_si512(block_vectors<T>(wg[g], b) + j * 64);
                for (int t = 0; t < TT; ++t) {
                    const __m512i a = broadcast_word(x.qs + ((t0 + t) * blocks + b) * 32 + 4 * j);
                    for (int g = 0; g < G; ++g) s[g][t] = _mm512_dpbusd_epi32(s[g][t], w[g], a);
                }
            }
        }
        for (int g = 0; g < G; ++g) {
            const __m512 dw = block_scales<T>(wg[g], blocks, b);
            for (int t = 0; t < TT; ++t) {
                const int64_t i = ((t0 + t) * blocks + b) * 8;
                const __m512 da = _mm512_set1_ps(x.d[i]);
                acc[g][t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s[g][t]), dw), da, acc[g][t]);
                if constexpr (T == dtype::q4_k) {
                    // value = scale · q − min: Σ value · a = da · (scale · s − min · Σqa), and corr = −Σqa
                    const float* mins = reinterpret_cast<const float*>(wg[g] + b * kPackedBlockBytes<T> + kVectors<T> * 64) + kGemmGroupRows;
                    acc[g][t] = _mm512_fmadd_ps(_mm512_load_ps(mins), _mm512_set1_ps(x.d[i] * float(x.corr[i])), acc[g][t]);
                }
            }
        }
    }
    for (int g = 0; g < G; ++g) {
        const int64_t row = (group + g) * kGemmGroupRows;
        const int64_t valid = std::min<int64_t>(kGemmGroupRows, rows - row);
        const __mmask16 m = valid >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << valid) - 1);
        for (int t = 0; t < TT; ++t) {
            float* out = y + (t0 + t) * rows + row;
            const __m512 v = first ? acc[g][t] : _mm512_add_ps(acc[g][t], _mm512_maskz_loadu_ps(m, out));
            _mm512_mask_storeu_ps(out, m, v);
        }
    }
}

// G row groups from `group` × tokens [t0, t1), blocks [b0, b1): the groups' weights of the chunk
// stay in L1 while the token tiles stream past them.
template <dtype T, int G>
void group_tile(const q8_activations& x, const uint8_t* packed, int64_t rows, int64_t group, int64_t t0, int64_t t1,
                int64_t b0, int64_t b1, bool first, float* y) {
    int64_t t = t0;
    for (; t + kTileTokens <= t1; t += kTileTokens) tile<T, G, kTileTokens>(x, packed, rows, group, t, b0, b1, first, y);
    switch (t1 - t) {
        case 3: tile<T, G, 3>(x, packed, rows, group, t, b0, b1, first, y); break;
        case 2: tile<T, G, 2>(x, packed, rows, group, t, b0, b1, first, y); break;
        case 1: tile<T, G, 1>(x, packed, rows, group, t, b0, b1, first, y); break;
        default: break;
    }
}

// Calls fn(vectors, scales, b) for each block of one row group's record in order: offsets from
// the record's start (Q4_0: a chunk at a time, the offsets q4_0_vectors_offset and
// q4_0_scales_offset give, without their divisions per block).
template <dtype T, typename Fn>
inline void for_each_block(int64_t blocks, Fn&& fn) {
    if constexpr (T == dtype::q4_0) {
        for (int64_t c0 = 0; c0 < blocks; c0 += kQ4ChunkBlocks) {
            const int64_t in_chunk = std::min(kQ4ChunkBlocks, blocks - c0), chunk = c0 / kQ4ChunkBlocks * kQ4ChunkBytes;
            for (int64_t j = 0; j < in_chunk; ++j) fn(chunk + j * 256, chunk + in_chunk * 256 + j * 32, c0 + j);
        }
    } else {
        for (int64_t b = 0; b < blocks; ++b) fn(b * kPackedBlockBytes<T>, b * kPackedBlockBytes<T> + kVectors<T> * 64, b);
    }
}

// Decode (one token): each row group's blocks streamed start to end, so the weights are read once
// and the tile's tricks for reusing them across tokens (k-chunks through y, token tiles) would
// only add traffic. Per block the 8 (Q8_0) or 4 × 2 (Q4_0) vpdpbusd go into two int32 chains
// against the token's activation words broadcast (Q8_0: once per block for all streams).
// Per 16 × 32 weights: 8 vpdpbusd, 9 more for Q4_0's nibbles (and, and-not, one shift of the
// sum), and 5 for the correction, sum, convert and scale, against ~15 per 64 weights in the row
// kernel. That makes one core's stream of weights the limit, and one sequential stream per core
// left DRAM bandwidth unused: 4 row
// groups from 4 quarters of the task's range are read side by side (4 address streams, 4 float
// accumulators that also hide the FMA latency), which ran decode 1.1–1.5× one stream's speed;
// 8 streams ran slower than 4 (docs/QUANTIZATION.md, "Decode over the packed layout").
template <dtype T>
void decode_groups(const q8_activations& x, const uint8_t* packed, int64_t rows, int64_t g0, int64_t g1, float* y) {
    const int64_t blocks = x.blocks;
    // Bytes per block on average (what a stream advances by) and per row group.
    constexpr int64_t kBlockBytes = T == dtype::q4_0 ? kQ4BlockBytes : kPackedBlockBytes<T>;
    const int64_t group_bytes = olm::group_bytes<T>(blocks);
    const __m512i low = _mm512_set1_epi8(0x0F);
    // Q4_0, one stream's block (Q8_0's below, its activation words shared by the streams).
    const auto q4_0_block = [&](const uint8_t* p, const uint8_t* scales, int64_t b, __m512& acc) {
        const int8_t* q = x.qs + b * 32;
        __m512i s0 = _mm512_set1_epi32(x.corr[b * 8]), s1 = _mm512_setzero_si512();
        // The high nibbles stay in place (16 · q, at most 240 · 127 · 4 per product group): their
        // sum is exactly 16 times theirs, shifted back once per block instead of each vector
        // shifted down.
        for (int j = 0; j < 4; ++j) {
            const __m512i v = _mm512_load_si512(p + j * 64);
            s0 = _mm512_dpbusd_epi32(s0, _mm512_and_si512(v, low), broadcast_word(q + 4 * j));
            s1 = _mm512_dpbusd_epi32(s1, _mm512_andnot_si512(low, v), broadcast_word(q + 16 + 4 * j));
        }
        s1 = _mm512_srai_epi32(s1, 4);
        const __m512 dw = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(scales)));
        acc = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), dw), _mm512_set1_ps(x.d[b * 8]), acc);
    };
    // A software prefetch about 1.2 KB ahead in each stream (the lines of as many bytes as a block
    // advances it by) ran decode 2–7% faster than the hardware prefetchers alone; 2.4 and 4.8 KB
    // no better (bench-decode-profile, llama3-1b Q8_0 / Q4_0, 2 threads, binaries alternating).
    // A stream's groups are contiguous, so the prefetch runs on into its next group.
    constexpr int64_t kAheadBytes = (1200 + kBlockBytes - 1) / kBlockBytes * kBlockBytes;
    const auto store = [&](int64_t g, __m512 v) {
        const int64_t row = g * kGemmGroupRows, valid = std::min<int64_t>(kGemmGroupRows, rows - row);
        const __mmask16 m = valid >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << valid) - 1);
        _mm512_mask_storeu_ps(y + row, m, v);
    };
    const auto streams = [&](auto s_const) {
        constexpr int S = decltype(s_const)::value;
        if (g1 - g0 < S) return;
        const int64_t span = (g1 - g0) / S;
        for (int64_t i = 0; i < span; ++i) {
            const uint8_t* w[S];
            __m512 acc[S];
            for (int k = 0; k < S; ++k) {
                w[k] = packed + (g0 + k * span + i) * group_bytes;
                acc[k] = _mm512_setzero_ps();
            }
            for_each_block<T>(blocks, [&](int64_t v, int64_t sc, int64_t b) {
                const auto prefetch = [&](int k) {
                    const uint8_t* ahead = w[k] + b * kBlockBytes + kAheadBytes;
                    for (int64_t l = 0; l < kBlockBytes; l += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + l), _MM_HINT_T0);
                };
                if constexpr (T == dtype::q4_0) {
                    for (int k = 0; k < S; ++k) {
                        prefetch(k);
                        q4_0_block(w[k] + v, w[k] + sc, b, acc[k]);
                    }
                } else {
                    // Q8_0: the token's 8 activation words broadcast once for all S streams (+5%
                    // decode against a broadcast per stream, alternating runs; for Q4_0 it was
                    // no better).
                    const int8_t* q = x.qs + b * 32;
                    __m512i a[8];
                    for (int j = 0; j < 8; ++j) a[j] = broadcast_word(q + 4 * j);
                    const __m512i corr = _mm512_set1_epi32(x.corr[b * 8]);
                    const __m512 dx = _mm512_set1_ps(x.d[b * 8]);
                    for (int k = 0; k < S; ++k) {
                        prefetch(k);
                        const uint8_t* p = w[k] + v;
                        __m512i s0 = corr, s1 = _mm512_setzero_si512();
                        for (int j = 0; j < 8; j += 2) {
                            s0 = _mm512_dpbusd_epi32(s0, _mm512_load_si512(p + j * 64), a[j]);
                            s1 = _mm512_dpbusd_epi32(s1, _mm512_load_si512(p + (j + 1) * 64), a[j + 1]);
                        }
                        const __m512 dw = _mm512_load_ps(w[k] + sc);
                        acc[k] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), dw), dx, acc[k]);
                    }
                }
            });
            for (int k = 0; k < S; ++k) store(g0 + k * span + i, acc[k]);
        }
        g0 += S * span;
    };
    streams(std::integral_constant<int, 4>{});
    streams(std::integral_constant<int, 2>{});
    streams(std::integral_constant<int, 1>{});
}

template <dtype T>
void rows_of(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    const auto* packed = static_cast<const uint8_t*>(w.packed);
    const int64_t g0 = r0 / kGemmGroupRows, g1 = (r1 + kGemmGroupRows - 1) / kGemmGroupRows;
    // (the K types' decode has kernels of its own, k-decode.h and the row kernels; one token of
    // them here, as the tests ask, takes the tile)
    if constexpr (T == dtype::q8_0 || T == dtype::q4_0) {
        if (x.n == 1) {
            decode_groups<T>(x, packed, w.rows, g0, g1, y);
            return;
        }
    }
    for (int64_t b0 = 0; b0 < x.blocks; b0 += kChunkBlocks) {
        const int64_t b1 = std::min(x.blocks, b0 + kChunkBlocks);
        const bool first = b0 == 0;
        for (int64_t t0 = 0; t0 < x.n; t0 += kTokenBlock) {
            const int64_t t1 = std::min(x.n, t0 + kTokenBlock);
            int64_t g = g0;
            for (; g + kTileGroups <= g1; g += kTileGroups) group_tile<T, kTileGroups>(x, packed, w.rows, g, t0, t1, b0, b1, first, y);
            for (; g < g1; ++g) group_tile<T, 1>(x, packed, w.rows, g, t0, t1, b0, b1, first, y);
        }
    }
}

}  // namespace

void gemm_q8_rows_avx512_vnni(const q8_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    assert(w.packed != nullptr && r0 % kGemmGroupRows == 0);
    switch (w.type) {
        case dtype::q8_0: rows_of<dtype::q8_0>(x, w, r0, r1, y); break;
        case dtype::q4_0: rows_of<dtype::q4_0>(x, w, r0, r1, y); break;
        case dtype::q4_k: rows_of<dtype::q4_k>(x, w, r0, r1, y); break;
        default: assert(w.type == dtype::q6_k); rows_of<dtype::q6_k>(x, w, r0, r1, y); break;
    }
}

}  // namespace olm
