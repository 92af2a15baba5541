// BF16 weights × BF16-rounded activations with AVX-512 BF16 dot products (vdpbf16ps), float32
// accumulation: each instruction multiplies 32 weight/activation pairs, four times the work of
// a converting FMA, which keeps decode memory-bound on two cores. Chosen at run time.
#include <immintrin.h>

#include "matmul.h"

namespace olm {

namespace {

constexpr int64_t kTokenChunk = 32;
constexpr int64_t kPrefetchBytes = 2048;  // software prefetch distance along each weight row

// The horizontal sums of sixteen vectors as one: lane i = the sum of v[i]'s sixteen lanes. A
// batch block's 16 dot products of 576 columns are 18 vdpbf16ps each; sixteen separate
// _mm512_reduce_add_ps cost about half as many instructions again, this transpose-and-add tree a
// third of that.
inline __m512 reduce16(const __m512* v) {
    __m512 quad[4];
    for (int g = 0; g < 4; ++g) {
        const __m512* a = v + 4 * g;
        // Per 128-bit lane: [a0 a1 a0 a1] partials, then [a0 a1 a2 a3] partials.
        const __m512 s01 = _mm512_add_ps(_mm512_unpacklo_ps(a[0], a[1]), _mm512_unpackhi_ps(a[0], a[1]));
        const __m512 s23 = _mm512_add_ps(_mm512_unpacklo_ps(a[2], a[3]), _mm512_unpackhi_ps(a[2], a[3]));
        quad[g] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(s01), _mm512_castps_pd(s23))),
                                _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(s01), _mm512_castps_pd(s23))));
    }
    // quad[g]'s four 128-bit lanes each hold partials of v[4g .. 4g+3]: add the lanes, group g
    // ending in lane g.
    const __m512 u01 = _mm512_add_ps(_mm512_shuffle_f32x4(quad[0], quad[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                     _mm512_shuffle_f32x4(quad[0], quad[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512 u23 = _mm512_add_ps(_mm512_shuffle_f32x4(quad[2], quad[3], _MM_SHUFFLE(2, 0, 2, 0)),
                                     _mm512_shuffle_f32x4(quad[2], quad[3], _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_add_ps(_mm512_shuffle_f32x4(u01, u23, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(u01, u23, _MM_SHUFFLE(3, 1, 3, 1)));
}

template <int R, int TT>
inline void block(const uint16_t* xb, int64_t cols, const matrix& w, int64_t row, int64_t t0, float* y) {
    const uint16_t* wr[R];
    for (int r = 0; r < R; ++r) wr[r] = static_cast<const uint16_t*>(w.data) + (row + r) * cols;
    const uint16_t* xt[TT];
    for (int t = 0; t < TT; ++t) xt[t] = xb + (t0 + t) * cols;

    __m512 acc[R][TT];
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < TT; ++t) acc[r][t] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= cols; k += 32) {
        __m512i wv[R];
        for (int r = 0; r < R; ++r) {
            wv[r] = _mm512_loadu_si512(wr[r] + k);
            _mm_prefetch(reinterpret_cast<const char*>(wr[r] + k) + kPrefetchBytes, _MM_HINT_T0);
        }
        for (int t = 0; t < TT; ++t) {
            const __m512bh xv = (__m512bh)_mm512_loadu_si512(xt[t] + k);
            for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)wv[r], xv);
        }
    }
    if (k < cols) {
        const __mmask32 m = static_cast<__mmask32>((uint64_t(1) << (cols - k)) - 1);
        __m512i wv[R];
        for (int r = 0; r < R; ++r) wv[r] = _mm512_maskz_loadu_epi16(m, wr[r] + k);
        for (int t = 0; t < TT; ++t) {
            const __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(m, xt[t] + k);
            for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)wv[r], xv);
        }
    }
    if constexpr (R == 4 && TT == 4) {
        __m512 v[16];
        for (int t = 0; t < 4; ++t)
            for (int r = 0; r < 4; ++r) v[4 * t + r] = acc[r][t];
        const __m512 sums = reduce16(v);  // lanes 4t .. 4t+3: token t's four rows
        _mm_storeu_ps(y + (t0 + 0) * w.rows + row, _mm512_extractf32x4_ps(sums, 0));
        _mm_storeu_ps(y + (t0 + 1) * w.rows + row, _mm512_extractf32x4_ps(sums, 1));
        _mm_storeu_ps(y + (t0 + 2) * w.rows + row, _mm512_extractf32x4_ps(sums, 2));
        _mm_storeu_ps(y + (t0 + 3) * w.rows + row, _mm512_extractf32x4_ps(sums, 3));
    } else {
        for (int t = 0; t < TT; ++t)
            for (int r = 0; r < R; ++r) y[(t0 + t) * w.rows + row + r] = _mm512_reduce_add_ps(acc[r][t]);
    }
}

template <int R>
inline void row_block(const uint16_t* xb, int64_t t_begin, int64_t t_end, const matrix& w, int64_t row, float* y) {
    const int64_t cols = w.cols;
    int64_t t = t_begin;
    for (; t + 4 <= t_end; t += 4) block<R, 4>(xb, cols, w, row, t, y);
    switch (t_end - t) {
        case 3: block<R, 3>(xb, cols, w, row, t, y); break;
        case 2: block<R, 2>(xb, cols, w, row, t, y); break;
        case 1: block<R, 1>(xb, cols, w, row, t, y); break;
        default: break;
    }
}

// One token (decode): each weight is read once, so the kernel's only job is to keep the memory
// system streaming. Measured on Zen 5 (docs/PERFORMANCE.md): rows stream fastest one at a time, as
// one linear read, with only the next row's start requested early; the batch kernel's four rows at
// once with a software prefetch of every line 2 KiB ahead was a third slower on 4 KiB rows.
constexpr int kNextRowLines = 4;  // cache lines of the next row requested at the start of a row

// w·x of one row with four independent accumulators (the dot products' latency stays hidden).
inline float dot_row_streamed(const uint16_t* wr, const uint16_t* x, int64_t cols) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t k = 0;
    for (; k + 128 <= cols; k += 128) {
        for (int u = 0; u < 4; ++u) {
            acc[u] = _mm512_dpbf16_ps(acc[u], (__m512bh)_mm512_loadu_si512(wr + k + 32 * u),
                                      (__m512bh)_mm512_loadu_si512(x + k + 32 * u));
        }
    }
    for (; k < cols; k += 32) {
        const __mmask32 m = cols - k >= 32 ? ~__mmask32(0) : static_cast<__mmask32>((uint64_t(1) << (cols - k)) - 1);
        acc[0] = _mm512_dpbf16_ps(acc[0], (__m512bh)_mm512_maskz_loadu_epi16(m, wr + k),
                                  (__m512bh)_mm512_maskz_loadu_epi16(m, x + k));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

void decode_rows(const uint16_t* x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    const int64_t cols = w.cols;
    const uint16_t* wd = static_cast<const uint16_t*>(w.data);
    for (int64_t r = r0; r < r1; ++r) {
        // The hardware prefetchers start a new stream at every row: asking for the next row's
        // first cache lines now hides that restart (4 KiB rows, one thread: 31 -> 37 GB/s).
        if (r + 1 < r1) {
            for (int line = 0; line < kNextRowLines; ++line) {
                _mm_prefetch(reinterpret_cast<const char*>(wd + (r + 1) * cols) + 64 * line, _MM_HINT_T0);
            }
        }
        y[r] = dot_row_streamed(wd + r * cols, x, cols);
    }
}

}  // namespace

void to_bf16_avx512(const float* x, int64_t n, uint16_t* out) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i)));
    }
    if (i < n) {
        const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
        const __m256i v = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i));
        _mm256_mask_storeu_epi16(out + i, m, v);
    }
}

void matmul_rows_bf16dot_avx512(const uint16_t* xb, int64_t n, const matrix& w, int64_t r0, int64_t r1, float* y) {
    if (n == 1) {
        decode_rows(xb, w, r0, r1, y);
        return;
    }
    for (int64_t tc = 0; tc < n; tc += kTokenChunk) {
        const int64_t tc_end = tc + kTokenChunk < n ? tc + kTokenChunk : n;
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) row_block<4>(xb, tc, tc_end, w, r, y);
        for (; r < r1; ++r) row_block<1>(xb, tc, tc_end, w, r, y);
    }
}

}  // namespace olm
