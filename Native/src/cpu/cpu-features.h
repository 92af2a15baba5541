// cpu-features.h: which instruction sets this CPU has, read once. The *-avx512.cpp kernels are
// compiled for AVX-512 and may only run where these say so; dispatch and tests both ask here.
#pragma once

namespace olm {

// AVX-512 F, BW, VL and DQ: what every *-avx512.cpp kernel needs.
bool cpu_has_avx512();

// AVX-512 as above plus AVX512_BF16 (the BF16 dot-product matmul).
bool cpu_has_avx512_bf16();

// AVX-512 as above plus AVX512_VNNI (the quantized-weight kernels' vpdpbusd).
bool cpu_has_avx512_vnni();

// "avx512bf16", "avx512" or "avx2": the widest level the kernels dispatch to.
const char* cpu_feature_level();

}  // namespace olm
