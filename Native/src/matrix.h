// matrix.h: a view of a weight matrix in its stored dtype: what the matmul kernels read, so
// that they need not know the model that holds it.
#pragma once

#include <cstdint>

#include "dtype.h"

namespace olm {

// A row-major matrix [rows, cols] in its stored dtype (quantized: each row is cols / 32 blocks).
struct matrix {
    dtype type = dtype::f32;
    const void* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
    // The same weights repacked for the int8 GEMM (cpu/gemm-q8.h), or null: set at load for
    // Q8_0 / Q4_0 / Q4_K / Q6_K on AVX-512 VNNI CPUs, owned by the model. A Q8_0 / Q4_0 matrix
    // with a packed copy may have data null: its original blocks were released.
    const void* packed = nullptr;
    // Q4_K / Q6_K: the same weights repacked for their one-token kernel (cpu/k-decode.h), or null;
    // set at load on AVX-512 VNNI CPUs, owned by the model. With it, data may be null too.
    const void* decode_packed = nullptr;
    int64_t row_bytes() const { return dtype_row_bytes(type, cols); }
    int64_t bytes() const { return rows * row_bytes(); }
};

}  // namespace olm
