// quant-test-data.h: quantized weight matrices and activations for the quantized kernel tests
// (test-quant.cpp, test-avx512-kernels.cpp), with double-precision references.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/matmul.h"
#include "kernel-test-data.h"
#include "quant.h"

namespace olm_test {

// A random matrix quantized by the reference quantizer; `deq` is what its blocks decode to.
struct quantized_matrix {
    std::vector<uint8_t> blocks;
    std::vector<float> deq;
    olm::matrix m;
    quantized_matrix(olm::dtype type, int64_t rows, int64_t cols, uint32_t seed) {
        const std::vector<float> f = random_floats(size_t(rows * cols), seed);
        blocks.resize(size_t(olm::dtype_row_bytes(type, cols) * rows));
        olm::quantize_row(type, f.data(), blocks.data(), rows * cols);
        deq.resize(f.size());
        olm::dequantize_row(type, blocks.data(), deq.data(), rows * cols);
        m = olm::matrix{type, blocks.data(), rows, cols};
    }
};

// Activations quantized for a kernel, and what they decode to.
struct q8_buffer {
    std::vector<uint8_t> storage;
    olm::q8_activations view;
    std::vector<float> deq;  // [n, cols]
    q8_buffer(const std::vector<float>& x, int64_t n, int64_t cols, int32_t corr_k)
        : storage(size_t(olm::q8_activation_bytes(n, cols) + 64)) {
        void* aligned = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
        view = olm::quantize_activations(x.data(), n, cols, corr_k, aligned, 0, n);
        deq.resize(size_t(n * cols));
        for (int64_t i = 0; i < n * cols; ++i) deq[size_t(i)] = view.d[i / 32 * 8] * float(view.qs[i]);
        for (int64_t b = 0; b < n * cols / 32; ++b) {
            int32_t sum = 0;
            for (int i = 0; i < 32; ++i) sum += view.qs[b * 32 + i];
            for (int l = 0; l < 8; ++l) EXPECT_EQ(view.corr[b * 8 + l], -corr_k * sum) << "corr of block " << b;
        }
    }
};

// y[t, r] for r in [r0, r1) against Σ deq_w · deq_x in double; rows outside stay NaN.
inline void expect_quantized_rows_match(const q8_buffer& x, const quantized_matrix& w, int64_t r0, int64_t r1,
                                        const std::vector<float>& y, const std::string& what) {
    const int64_t cols = w.m.cols, rows = w.m.rows, n = x.view.n;
    for (int64_t t = 0; t < n; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
            const float got = y[size_t(t * rows + r)];
            if (r < r0 || r >= r1) {
                ASSERT_TRUE(std::isnan(got)) << what << ": row " << r << " is outside [" << r0 << ", " << r1 << ")";
                continue;
            }
            double ref = 0, magnitude = 0;
            for (int64_t k = 0; k < cols; ++k) {
                const double p = double(x.deq[size_t(t * cols + k)]) * w.deq[size_t(r * cols + k)];
                ref += p;
                magnitude += std::fabs(p);
            }
            ASSERT_NEAR(got, ref, 2e-6 * magnitude + 1e-6) << what << " t=" << t << " r=" << r;
        }
    }
}

// y = x · deq_wᵀ within the error of the path: x quantized to 8 bits per block (≤ amax/254 per
// element), or (bf16) x and the weights rounded to BF16 (each ≤ 2^-9 relative).
inline void expect_float_rows_match(const std::vector<float>& x, int64_t n, const quantized_matrix& w,
                                    const std::vector<float>& y, const std::string& what, bool bf16 = false,
                                    int64_t activation_block = 32) {
    const int64_t cols = w.m.cols, rows = w.m.rows, ab = activation_block;
    for (int64_t t = 0; t < n; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
            double ref = 0, bound = 1e-5;
            for (int64_t b = 0; b < cols / ab; ++b) {
                double amax = 0;
                for (int64_t i = 0; i < ab; ++i) amax = std::max(amax, std::fabs(double(x[size_t(t * cols + b * ab + i)])));
                for (int64_t i = 0; i < ab; ++i) {
                    const int64_t k = b * ab + i;
                    ref += double(x[size_t(t * cols + k)]) * w.deq[size_t(r * cols + k)];
                    const double xw = std::fabs(w.deq[size_t(r * cols + k)]);
                    bound += bf16 ? xw * std::fabs(double(x[size_t(t * cols + k)])) * 2.01 / 512 : xw * amax / 254 * 1.01;
                }
            }
            ASSERT_NEAR(y[size_t(t * rows + r)], ref, bound) << what << " t=" << t << " r=" << r;
        }
    }
}

// One token quantized per 256-block for the K decode kernels, and what it decodes to; checks the
// per-16 sums and that every element is within half a step of x.
struct q8k_buffer {
    std::vector<uint8_t> storage;
    olm::q8k_activations view;
    std::vector<float> deq;
    explicit q8k_buffer(const std::vector<float>& x) : storage(size_t(olm::q8k_activation_bytes(int64_t(x.size())))) {
        view = olm::quantize_activations_q8k(x.data(), int64_t(x.size()), storage.data());
        deq.resize(x.size());
        for (size_t i = 0; i < x.size(); ++i) {
            const float d = view.d[i / 256];
            deq[i] = d * float(view.qs[i]);
            EXPECT_LE(std::fabs(deq[i] - x[i]), d * 0.5f * 1.0001f + 1e-30f) << "activation " << i;
        }
        for (int64_t j = 0; j < view.blocks * 16; ++j) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) sum += view.qs[j * 16 + i];
            EXPECT_EQ(view.bsums[j], sum) << "sum of 16 number " << j;
        }
        for (int64_t j = 0; j < view.blocks * 8; ++j) {
            int sum = 0;
            for (int i = 0; i < 32; ++i) sum += view.qs[j * 32 + i];
            EXPECT_EQ(view.bsums32[j], sum) << "sum of 32 number " << j;
        }
        // qs_q4k: per 128 elements, 0..31, 64..95, 32..63, 96..127
        for (int64_t i = 0; i < view.blocks * 256; ++i) {
            const int64_t chunk = i / 128, within = i % 128, part = within / 32;
            const int64_t from = chunk * 128 + (part == 0 ? 0 : part == 1 ? 64 : part == 2 ? 32 : 96) + within % 32;
            EXPECT_EQ(view.qs_q4k[i], view.qs[from]) << "Q4_K-order activation " << i;
        }
    }
};

// One token's y[r] for r in [r0, r1) of a K-type matrix against Σ deq_w · deq_x in double
// (integer products are exact: the float rounding of the per-super-block scaling only); rows
// outside stay NaN.
inline void expect_k_rows_match(const q8k_buffer& x, const quantized_matrix& w, int64_t r0, int64_t r1,
                                const std::vector<float>& y, const std::string& what) {
    const int64_t cols = w.m.cols;
    for (int64_t r = 0; r < w.m.rows; ++r) {
        if (r < r0 || r >= r1) {
            ASSERT_TRUE(std::isnan(y[size_t(r)])) << what << ": row " << r << " is outside [" << r0 << ", " << r1 << ")";
            continue;
        }
        double ref = 0, magnitude = 0;
        for (int64_t k = 0; k < cols; ++k) {
            const double p = double(w.deq[size_t(r * cols + k)]) * x.deq[size_t(k)];
            ref += p;
            magnitude += std::fabs(p);
        }
        ASSERT_NEAR(y[size_t(r)], ref, magnitude * 1e-5 + 1e-6) << what << " row " << r;
    }
}

// A K-type decode kernel on rows [2, 11) of a random 13-row matrix quantized by our quantizer.
inline void expect_k_kernel_matches(void (*kernel)(const olm::q8k_activations&, const olm::matrix&, int64_t, int64_t, float*),
                                    olm::dtype type, int64_t cols, uint32_t seed, const std::string& what) {
    const quantized_matrix w(type, 13, cols, seed);
    const q8k_buffer xq(random_floats(size_t(cols), seed + 100));
    std::vector<float> y(13, NAN);
    kernel(xq.view, w.m, 2, 11, y.data());
    expect_k_rows_match(xq, w, 2, 11, y, what);
}

}  // namespace olm_test
