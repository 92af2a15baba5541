// k-rows.h: the row loop of the Q4_K / Q6_K decode kernels (matmul-quant-k-avx2.cpp,
// matmul-quant-k-avx512.cpp), over the row dot products of the including file's instruction set.
// A template included by each, so that the loop is compiled with that file's flags.
#pragma once

#include <cassert>
#include <cstdint>

#include "matmul.h"
#include "quant.h"

namespace olm {

template <float (*Q4kRow)(const q8k_activations&, const block_q4_k*), float (*Q6kRow)(const q8k_activations&, const block_q6_k*)>
inline void k_decode_rows(const q8k_activations& x, const matrix& w, int64_t r0, int64_t r1, float* y) {
    const int64_t row_bytes = w.row_bytes();
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* row = static_cast<const uint8_t*>(w.data) + r * row_bytes;
        if (w.type == dtype::q4_k) {
            y[r] = Q4kRow(x, reinterpret_cast<const block_q4_k*>(row));
        } else {
            assert(w.type == dtype::q6_k);
            y[r] = Q6kRow(x, reinterpret_cast<const block_q6_k*>(row));
        }
    }
}

}  // namespace olm
