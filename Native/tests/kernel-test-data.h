// kernel-test-data.h: random inputs and weight matrices in each stored dtype for the kernel
// tests, with the float values the kernels see (after F16 / BF16 rounding) for the references.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <random>
#include <vector>

#include "cpu/ops.h"
#include "matrix.h"

namespace olm_test {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

struct stored_matrix {
    std::vector<float> f32;       // the values the kernel sees, as float
    std::vector<uint16_t> half;   // storage for F16 / BF16
    olm::matrix m;
};

inline stored_matrix make_matrix(olm::dtype type, int64_t rows, int64_t cols, uint32_t seed) {
    stored_matrix s;
    s.f32 = random_floats(size_t(rows * cols), seed);
    if (type == olm::dtype::bf16) {
        s.half.resize(s.f32.size());
        for (size_t i = 0; i < s.f32.size(); ++i) {
            s.half[i] = olm::to_bf16(s.f32[i]);
            s.f32[i] = olm::from_bf16(s.half[i]);
        }
    } else if (type == olm::dtype::f16) {
        s.half.resize(s.f32.size());
        for (size_t i = 0; i < s.f32.size(); ++i) {
            s.half[i] = _cvtss_sh(s.f32[i], 0);
            s.f32[i] = _cvtsh_ss(s.half[i]);
        }
    }
    s.m = olm::matrix{type, type == olm::dtype::f32 ? static_cast<const void*>(s.f32.data()) : s.half.data(), rows, cols};
    return s;
}

}  // namespace olm_test
