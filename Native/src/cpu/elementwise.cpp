#include <immintrin.h>

#include <cmath>

#include "avx2-math.h"
#include "ops.h"

namespace olm {

float dot(const float* a, const float* b, int64_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    float s = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

void rms_norm(const float* x, const float* weight, float* out, int64_t n, int64_t dim, float eps) {
    for (int64_t t = 0; t < n; ++t) {
        const float* xr = x + t * dim;
        float* o = out + t * dim;
        const float ms = dot(xr, xr, dim) / static_cast<float>(dim);
        const float inv = 1.0f / std::sqrt(ms + eps);
        for (int64_t i = 0; i < dim; ++i) o[i] = xr[i] * inv * weight[i];
    }
}

void rope(float* x, int64_t n, int64_t n_heads, int64_t head_dim, const float* cos, const float* sin) {
    const int64_t half = head_dim / 2;
    for (int64_t t = 0; t < n; ++t) {
        const float* c = cos + t * half;
        const float* s = sin + t * half;
        for (int64_t h = 0; h < n_heads; ++h) {
            float* v = x + (t * n_heads + h) * head_dim;
            for (int64_t i = 0; i < half; ++i) {
                const float a = v[i], b = v[i + half];
                v[i] = a * c[i] - b * s[i];
                v[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n, int64_t dim) {
    const int64_t total = n * dim;
    int64_t i = 0;
    for (; i + 8 <= total; i += 8) {
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu_ps(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
    }
    for (; i < total; ++i) {
        const float g = gate[i];
        out[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
}

void add_inplace(float* x, const float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace olm
