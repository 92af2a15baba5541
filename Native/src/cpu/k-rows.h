// k-rows.h: the row loop of the Q4_K / Q6_K decode kernels (matmul-quant-k-avx2.cpp,
// matmul-quant-k-avx512.cpp), over each instruction set's super-block step. A template included
// by each, so that the loop is compiled with that file's flags.
//
// A kernel K is a struct: K::block_type (block_q4_k or block_q6_k), K::acc (its accumulators),
// K::zero(), K::step(x, b, block, acc) for super-block b of a row, K::finish(acc) → the row's dot
// product. Rows are read one after the other: reading 2 or 4 rows side by side, one super-block
// of each in turn (as the packed Q8_0 / Q4_0 decode does), ran 1.1–1.3× slower here.
#pragma once

#include <cassert>
#include <cstdint>

#include "matmul.h"
#include "quant.h"

namespace olm {

template <class K>
inline void k_rows(const q8k_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    using block_t = typename K::block_type;
    const int64_t row_bytes = w.row_bytes();
    for (int64_t r = r0; r < r1; ++r) {
        const auto* blocks = reinterpret_cast<const block_t*>(static_cast<const uint8_t*>(w.data) + r * row_bytes);
        typename K::acc acc = K::zero();
        for (int64_t b = 0; b < x.blocks; ++b) K::step(x, b, blocks[b], acc);
        y[r] = K::finish(acc);
    }
}

template <class Q4k, class Q6k>
inline void k_decode_rows(const q8k_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    if (w.type == dtype::q4_k) {
        k_rows<Q4k>(x, w, r0, r1, y);
    } else {
        assert(w.type == dtype::q6_k);
        k_rows<Q6k>(x, w, r0, r1, y);
    }
}

}  // namespace olm
