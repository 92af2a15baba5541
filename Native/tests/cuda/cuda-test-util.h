// cuda-test-util.h: what the CUDA tests share: the skip without a device, device buffers, random
// data, and the bf16 tolerance helpers.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backend.h"
#include "cpu/ops.h"
#include "cuda/cuda-check.h"

// Every CUDA test starts with this: on a machine without a device it is reported as skipped
// (ctest: ***Skipped), never as passed.
#define OLM_REQUIRE_CUDA_DEVICE()                                                                          \
    do {                                                                                                   \
        if (!olm::cuda_device_available()) GTEST_SKIP() << "no CUDA device (cudaGetDeviceCount found none)"; \
    } while (0)

namespace olm {
namespace testing {

// A device array of T, copied from and to host vectors.
template <class T>
class device_vector {
public:
    explicit device_vector(size_t n) : n_(n) { cuda::check(cudaMalloc(&p_, std::max<size_t>(n, 1) * sizeof(T)), "cudaMalloc"); }
    explicit device_vector(const std::vector<T>& host) : device_vector(host.size()) {
        cuda::check(cudaMemcpy(p_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
    }
    ~device_vector() { cudaFree(p_); }
    device_vector(const device_vector&) = delete;
    device_vector& operator=(const device_vector&) = delete;

    T* get() { return static_cast<T*>(p_); }
    std::vector<T> to_host() const {
        std::vector<T> h(n_);
        cuda::check(cudaDeviceSynchronize(), "kernel");
        cuda::check(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
        return h;
    }

private:
    void* p_ = nullptr;
    size_t n_;
};

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

inline std::vector<uint16_t> to_bf16_vector(const std::vector<float>& v) {
    std::vector<uint16_t> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = to_bf16(v[i]);
    return out;
}

inline std::vector<float> from_bf16_vector(const std::vector<uint16_t>& v) {
    std::vector<float> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = from_bf16(v[i]);
    return out;
}

// Largest |got - want| / (|want| + floor) over the arrays.
inline float worst_relative_error(const std::vector<float>& got, const std::vector<float>& want, float floor) {
    EXPECT_EQ(got.size(), want.size());
    float worst = 0.0f;
    for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
        const float e = std::fabs(got[i] - want[i]) / (std::fabs(want[i]) + floor);
        if (!(e <= worst)) worst = e;  // NaN propagates as a failure
    }
    return worst;
}

}  // namespace testing
}  // namespace olm
