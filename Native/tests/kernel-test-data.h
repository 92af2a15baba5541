// kernel-test-data.h: random inputs and weight matrices in each stored dtype for the kernel
// tests, with the float values the kernels see (after F16 / BF16 rounding) for the references.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "batch.h"
#include "cpu/ops.h"
#include "matrix.h"
#include "quant.h"

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

// Two sequences over scattered blocks of 4 tokens — a 7-token prefill, and a 3-token chunk on top
// of 7 cached tokens — with random queries, and their causal attention computed contiguously in
// double precision. The keys and values are first rounded to what a cache of kv_type holds (BF16
// rounding; kv_int8: each (token, head) row quantized and dequantized), so the cache of that type
// (cache_k / cache_v) and the reference hold the same values. batch() points into the case: it is
// not copied.
class paged_attention_case {
public:
    static constexpr int32_t n_kv = 2, block = 4, n_blocks = 12, n_tokens = 10;

    paged_attention_case(int32_t head_dim, int32_t group, olm::dtype kv_type)
        : hd(head_dim), n_heads(n_kv * group), kv_dim(int64_t(n_kv) * head_dim), kv_type_(kv_type),
          k_cache(size_t(n_blocks * block * kv_dim)), v_cache(k_cache.size()),
          k_cache16(k_cache.size()), v_cache16(k_cache.size()),
          k_cache8(size_t(n_blocks * block * n_kv * olm::kv_row_bytes(olm::dtype::kv_int8, head_dim))), v_cache8(k_cache8.size()) {
        std::vector<uint8_t> row(size_t(olm::kv_row_bytes(olm::dtype::kv_int8, head_dim)));
        for (int s = 0; s < 2; ++s) {
            keys_[s] = random_floats(size_t(seq_len_[s] * kv_dim), 20 + s);
            values_[s] = random_floats(size_t(seq_len_[s] * kv_dim), 30 + s);
            for (auto* vs : {&keys_[s], &values_[s]}) {
                if (kv_type == olm::dtype::bf16)
                    for (float& v : *vs) v = olm::from_bf16(olm::to_bf16(v));
                if (kv_type == olm::dtype::kv_int8)
                    for (size_t r = 0; r < vs->size(); r += size_t(hd)) {
                        olm::quantize_kv_int8_row(vs->data() + r, hd, row.data());
                        olm::dequantize_kv_int8_row(row.data(), hd, vs->data() + r);
                    }
            }
            for (int32_t j = 0; j < seq_len_[s]; ++j) {
                const int64_t slot = int64_t(block_indices_[block_indptr_[s] + j / block]) * block + j % block;
                std::memcpy(&k_cache[size_t(slot * kv_dim)], &keys_[s][size_t(j * kv_dim)], size_t(kv_dim) * 4);
                std::memcpy(&v_cache[size_t(slot * kv_dim)], &values_[s][size_t(j * kv_dim)], size_t(kv_dim) * 4);
            }
            for (int32_t i = 0; i < new_tokens_[s]; ++i) positions_.push_back(seq_len_[s] - new_tokens_[s] + i);
        }
        for (size_t i = 0; i < k_cache.size(); ++i) {
            k_cache16[i] = olm::to_bf16(k_cache[i]);
            v_cache16[i] = olm::to_bf16(v_cache[i]);
        }
        // Rows already on the int8 grid quantize back to the same values (to an ulp of their scale).
        const size_t row_bytes = row.size();
        for (size_t r = 0; r < k_cache.size() / size_t(hd); ++r) {
            olm::quantize_kv_int8_row(&k_cache[r * size_t(hd)], hd, &k_cache8[r * row_bytes]);
            olm::quantize_kv_int8_row(&v_cache[r * size_t(hd)], hd, &v_cache8[r * row_bytes]);
        }
        q = random_floats(size_t(n_tokens * n_heads * hd), 40);
    }
    paged_attention_case(const paged_attention_case&) = delete;
    paged_attention_case& operator=(const paged_attention_case&) = delete;

    olm::batch_view batch() const {
        return olm::attention_batch(n_tokens, positions_.data(), 2, query_start_, seq_len_, block_indptr_, block_indices_);
    }

    // The cache of the case's kv_type.
    const void* cache_k() const { return cache(k_cache, k_cache16, k_cache8); }
    const void* cache_v() const { return cache(v_cache, v_cache16, v_cache8); }

    // A decode batch of the same caches: each sequence's last token alone (rows decode_rows of
    // q and of reference()), its queries gathered in decode_q().
    static constexpr int32_t decode_rows[2] = {6, 9};
    olm::batch_view decode_batch() const {
        olm::batch_view b = batch();
        b.n_tokens = 2;
        b.positions = decode_positions_;
        b.query_start = decode_query_start_;
        return b;
    }
    std::vector<float> decode_q() const {
        std::vector<float> out;
        for (const int32_t t : decode_rows) out.insert(out.end(), q.begin() + t * n_heads * hd, q.begin() + (t + 1) * n_heads * hd);
        return out;
    }

    // The sequence token row t belongs to.
    int seq_of(int32_t t) const { return t < query_start_[1] ? 0 : 1; }

    // [n_tokens * n_heads * hd] causal softmax(q·k / sqrt(hd))·v, query head h reading KV head h / group.
    std::vector<double> reference() const {
        std::vector<double> out(q.size());
        for (int32_t t = 0; t < n_tokens; ++t) {
            const int s = seq_of(t);
            for (int32_t h = 0; h < n_heads; ++h) {
                const int32_t kvh = h / (n_heads / n_kv), n_keys = positions_[size_t(t)] + 1;
                std::vector<double> p(static_cast<size_t>(n_keys));
                double mx = -1e300, sum = 0;
                for (int32_t j = 0; j < n_keys; ++j) {
                    double d = 0;
                    for (int32_t i = 0; i < hd; ++i)
                        d += double(q[size_t((t * n_heads + h) * hd + i)]) * keys_[s][size_t(j * kv_dim + kvh * hd + i)];
                    p[size_t(j)] = d / std::sqrt(double(hd));
                    mx = std::max(mx, p[size_t(j)]);
                }
                for (auto& v : p) sum += (v = std::exp(v - mx));
                for (int32_t i = 0; i < hd; ++i) {
                    double r = 0;
                    for (int32_t j = 0; j < n_keys; ++j) r += p[size_t(j)] / sum * values_[s][size_t(j * kv_dim + kvh * hd + i)];
                    out[size_t((t * n_heads + h) * hd + i)] = r;
                }
            }
        }
        return out;
    }

    const int32_t hd, n_heads;
    const int64_t kv_dim;
    const olm::dtype kv_type_;
    std::vector<float> k_cache, v_cache;        // [n_blocks * block * kv_dim]
    std::vector<uint16_t> k_cache16, v_cache16;  // the same, BF16
    std::vector<uint8_t> k_cache8, v_cache8;     // the same, kv_int8 rows
    std::vector<float> q;                       // [n_tokens * n_heads * hd]

private:
    const void* cache(const std::vector<float>& f32, const std::vector<uint16_t>& bf16, const std::vector<uint8_t>& int8) const {
        if (kv_type_ == olm::dtype::bf16) return bf16.data();
        if (kv_type_ == olm::dtype::kv_int8) return int8.data();
        return f32.data();
    }

    const int32_t seq_len_[2] = {7, 10};
    const int32_t new_tokens_[2] = {7, 3};
    const int32_t query_start_[3] = {0, 7, 10};
    const int32_t decode_positions_[2] = {6, 9};
    const int32_t decode_query_start_[3] = {0, 1, 2};
    const int32_t block_indptr_[3] = {0, 2, 5};
    const int32_t block_indices_[5] = {5, 2, 9, 0, 11};
    std::vector<float> keys_[2], values_[2];  // per sequence, contiguous [seq_len * kv_dim]
    std::vector<int32_t> positions_;
};

}  // namespace olm_test
