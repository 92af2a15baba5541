// test-cuda-kernels.cpp: every CUDA kernel against the CPU reference (cpu/ops.h, forward.cpp's
// arithmetic) on fresh random data, at the shapes the issue lists: head dims 64 and 128, GQA
// ratios 1/4/8, block sizes 16 and 32, contexts 1 to 8k, prefill chunks at prefix-hit offsets,
// split-K on and off. Without a CUDA device every test is skipped with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "batch.h"
#include "cpu/ops.h"
#include "cuda/ops.h"
#include "cuda-test-util.h"
#include "model-config.h"
#include "model.h"
#include "thread-pool.h"

using olm::testing::device_vector;
using olm::testing::from_bf16_vector;
using olm::testing::random_floats;
using olm::testing::to_bf16_vector;
using olm::testing::worst_relative_error;

namespace {

// BF16 keeps 8 significant bits: a rounded output is within 2^-8 of its value, relatively.
constexpr float kBf16Tolerance = 1.0f / 128.0f;

}  // namespace

TEST(CudaKernels, EmbeddingGathersRows) {
    OLM_REQUIRE_CUDA_DEVICE();
    const int32_t vocab = 1000, hidden = 320, n = 37;
    const std::vector<uint16_t> table = to_bf16_vector(random_floats(size_t(vocab) * hidden, 1));
    std::vector<int32_t> ids(n);
    for (int32_t i = 0; i < n; ++i) ids[size_t(i)] = (i * 7919 + 13) % vocab;
    device_vector<uint16_t> d_table(table);
    device_vector<int32_t> d_ids(ids);
    device_vector<float> d_out(size_t(n) * hidden);
    olm::cuda::launch_embedding(d_table.get(), d_ids.get(), d_out.get(), n, hidden, nullptr);
    const std::vector<float> out = d_out.to_host();
    for (int32_t t = 0; t < n; ++t) {
        for (int32_t i = 0; i < hidden; ++i) {
            ASSERT_EQ(out[size_t(t) * hidden + i], olm::from_bf16(table[size_t(ids[size_t(t)]) * hidden + i])) << t << "," << i;
        }
    }
}

TEST(CudaKernels, RmsNormWithResidualMatchesCpu) {
    OLM_REQUIRE_CUDA_DEVICE();
    for (int32_t dim : {64, 1024, 4096, 5120}) {
        for (bool with_rows : {false, true}) {
            const int32_t total = 9;
            std::vector<int32_t> rows = {8, 2, 5};
            const int32_t n = with_rows ? int32_t(rows.size()) : total;
            std::vector<float> x = random_floats(size_t(total) * dim, uint32_t(dim), -2.0f, 2.0f);
            const std::vector<float> residual = random_floats(size_t(total) * dim, uint32_t(dim + 1));
            const std::vector<float> weight = random_floats(size_t(dim), uint32_t(dim + 2), 0.5f, 1.5f);
            device_vector<float> d_x(x), d_res(residual), d_w(weight);
            device_vector<int32_t> d_rows(rows);
            device_vector<uint16_t> d_out(size_t(n) * dim);
            olm::cuda::launch_rms_norm_residual(d_x.get(), d_res.get(), with_rows ? d_rows.get() : nullptr, d_w.get(),
                                                d_out.get(), n, dim, 1e-5f, nullptr);
            const std::vector<float> got = from_bf16_vector(d_out.to_host());
            const std::vector<float> got_x = d_x.to_host();
            std::vector<float> want(size_t(n) * dim);
            for (int32_t i = 0; i < n; ++i) {
                const size_t r = size_t(with_rows ? rows[size_t(i)] : i);
                for (int32_t d = 0; d < dim; ++d) x[r * dim + d] += residual[r * dim + d];
                olm::rms_norm(x.data() + r * dim, weight.data(), want.data() + size_t(i) * dim, 1, dim, 1e-5f);
                for (int32_t d = 0; d < dim; ++d) ASSERT_EQ(got_x[r * dim + d], x[r * dim + d]) << "residual sum";
            }
            EXPECT_LE(worst_relative_error(got, want, 1e-2f), kBf16Tolerance) << "dim " << dim << " rows " << with_rows;
        }
    }
}

TEST(CudaKernels, HeadRmsNormMatchesCpu) {
    OLM_REQUIRE_CUDA_DEVICE();
    for (int32_t head_dim : {64, 128}) {
        const int32_t n = 5, n_heads = 6, stride = n_heads * head_dim + 40;  // rows of a wider QKV buffer
        std::vector<float> x = random_floats(size_t(n) * stride, 3);
        const std::vector<float> w = random_floats(size_t(head_dim), 4, 0.5f, 1.5f);
        device_vector<float> d_x(x), d_w(w);
        olm::cuda::launch_head_rms_norm(d_x.get(), stride, d_w.get(), n, n_heads, head_dim, 1e-6f, nullptr);
        const std::vector<float> got = d_x.to_host();
        for (int32_t t = 0; t < n; ++t) {
            for (int32_t h = 0; h < n_heads; ++h) {
                float* head = x.data() + size_t(t) * stride + size_t(h) * head_dim;
                olm::rms_norm(head, w.data(), head, 1, head_dim, 1e-6f);
            }
        }
        EXPECT_LE(worst_relative_error(got, x, 1e-3f), 1e-5f) << "head_dim " << head_dim;
    }
}

TEST(CudaKernels, BiasAddMatchesCpu) {
    OLM_REQUIRE_CUDA_DEVICE();
    const int32_t n = 13, dim = 1000;
    std::vector<float> x = random_floats(size_t(n) * dim, 5);
    const std::vector<float> bias = random_floats(size_t(dim), 6);
    device_vector<float> d_x(x), d_b(bias);
    olm::cuda::launch_bias_add(d_x.get(), d_b.get(), n, dim, nullptr);
    const std::vector<float> got = d_x.to_host();
    for (int32_t t = 0; t < n; ++t) olm::add_inplace(x.data() + size_t(t) * dim, bias.data(), dim);
    EXPECT_EQ(got, x);
}

TEST(CudaKernels, RopeMatchesCpuWithAndWithoutLlama3Scaling) {
    OLM_REQUIRE_CUDA_DEVICE();
    for (int32_t head_dim : {64, 128}) {
        for (bool llama3 : {false, true}) {
            olm::model_config c;
            c.head_dim = head_dim;
            c.rope.theta = llama3 ? 500000.0f : 10000.0f;
            c.rope.llama3_scaling = llama3;
            c.rope.factor = 8.0f;
            const std::vector<float> inv_freq = olm::rope_frequencies(c);
            const int32_t n = 9, n_heads = 4, stride = n_heads * head_dim + 64;
            const std::vector<int32_t> positions = {0, 1, 2, 15, 16, 511, 1000, 4095, 8191};
            std::vector<float> x = random_floats(size_t(n) * stride, uint32_t(7 + head_dim));
            device_vector<float> d_x(x), d_inv(inv_freq);
            device_vector<int32_t> d_pos(positions);
            olm::cuda::launch_rope(d_x.get(), stride, d_pos.get(), d_inv.get(), n, n_heads, head_dim, nullptr);
            const std::vector<float> got = d_x.to_host();
            // The CPU tables as forward.cpp builds them.
            const int32_t half = head_dim / 2;
            std::vector<float> cos_t(size_t(n) * half), sin_t(size_t(n) * half);
            for (int32_t t = 0; t < n; ++t) {
                for (int32_t i = 0; i < half; ++i) {
                    const float angle = float(positions[size_t(t)]) * inv_freq[size_t(i)];
                    cos_t[size_t(t) * half + i] = std::cos(angle);
                    sin_t[size_t(t) * half + i] = std::sin(angle);
                }
            }
            for (int32_t t = 0; t < n; ++t) {
                olm::rope(x.data() + size_t(t) * stride, 1, n_heads, head_dim, cos_t.data() + size_t(t) * half,
                          sin_t.data() + size_t(t) * half);
            }
            float worst = 0.0f;
            for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(got[i] - x[i]));
            EXPECT_LE(worst, 1e-5f) << "head_dim " << head_dim << " llama3 " << llama3;
        }
    }
}

TEST(CudaKernels, KvWriteStoresThroughSlotMapping) {
    OLM_REQUIRE_CUDA_DEVICE();
    const int32_t n = 20, kv_dim = 2 * 128, stride = 3 * kv_dim, n_slots = 64;
    const std::vector<float> rows = random_floats(size_t(n) * stride, 8);
    std::vector<int64_t> slots(n);
    std::vector<int64_t> perm(n_slots);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), std::mt19937(9));
    for (int32_t t = 0; t < n; ++t) slots[size_t(t)] = perm[size_t(t)];
    slots[3] = -1;  // a padding token writes nothing
    device_vector<float> d_rows(rows);
    device_vector<int64_t> d_slots(slots);
    const std::vector<uint16_t> zeros(size_t(n_slots) * kv_dim, 0);
    device_vector<uint16_t> d_k(zeros), d_v(zeros);
    olm::cuda::launch_kv_write(d_rows.get() + kv_dim, d_rows.get() + 2 * kv_dim, stride, d_slots.get(), d_k.get(), d_v.get(),
                               n, kv_dim, nullptr);
    const std::vector<uint16_t> k = d_k.to_host(), v = d_v.to_host();
    std::vector<bool> written(n_slots, false);
    for (int32_t t = 0; t < n; ++t) {
        if (slots[size_t(t)] < 0) continue;
        const size_t s = size_t(slots[size_t(t)]);
        written[s] = true;
        for (int32_t i = 0; i < kv_dim; ++i) {
            ASSERT_EQ(k[s * kv_dim + i], olm::to_bf16(rows[size_t(t) * stride + kv_dim + i]));
            ASSERT_EQ(v[s * kv_dim + i], olm::to_bf16(rows[size_t(t) * stride + 2 * kv_dim + i]));
        }
    }
    for (int32_t s = 0; s < n_slots; ++s) {
        if (!written[size_t(s)]) ASSERT_EQ(k[size_t(s) * kv_dim], 0) << "slot " << s << " was not in the mapping";
    }
}

TEST(CudaKernels, SiluMulMatchesCpu) {
    OLM_REQUIRE_CUDA_DEVICE();
    const int32_t n = 11, inter = 1376;
    const std::vector<float> gate_up = random_floats(size_t(n) * 2 * inter, 10, -6.0f, 6.0f);
    device_vector<float> d_gu(gate_up);
    device_vector<uint16_t> d_out(size_t(n) * inter);
    olm::cuda::launch_silu_mul(d_gu.get(), d_out.get(), n, inter, nullptr);
    const std::vector<float> got = from_bf16_vector(d_out.to_host());
    std::vector<float> want(size_t(n) * inter);
    for (int32_t t = 0; t < n; ++t) {
        olm::silu_mul(gate_up.data() + size_t(t) * 2 * inter, gate_up.data() + size_t(t) * 2 * inter + inter,
                      want.data() + size_t(t) * inter, 1, inter);
    }
    EXPECT_LE(worst_relative_error(got, want, 1e-2f), kBf16Tolerance);
}

namespace {

struct attention_case {
    int32_t head_dim, n_kv_heads, group, block_size;
    // Per sequence: tokens already in the cache (prefix hit or earlier steps) and tokens computed now.
    std::vector<std::pair<int32_t, int32_t>> seqs;
};

std::string describe(const attention_case& c) {
    std::string s = "head_dim " + std::to_string(c.head_dim) + " group " + std::to_string(c.group) + " block " +
                    std::to_string(c.block_size) + " seqs";
    for (auto& [cached, fresh] : c.seqs) s += " " + std::to_string(cached) + "+" + std::to_string(fresh);
    return s;
}

// Runs the CUDA kernel (with n_splits, 0 = the launcher's heuristic) and the CPU reference on the
// same random BF16 cache with shuffled block tables; returns the worst relative error.
float attention_error(const attention_case& c, int32_t n_splits, uint32_t seed) {
    const int32_t n_heads = c.n_kv_heads * c.group, hd = c.head_dim, bs = c.block_size;
    const int64_t kv_dim = int64_t(c.n_kv_heads) * hd;
    // Blocks: each sequence gets its own, from a shuffled pool.
    int32_t n_blocks = 0;
    for (auto& [cached, fresh] : c.seqs) n_blocks += (cached + fresh + bs - 1) / bs;
    std::vector<int32_t> pool_ids(size_t(n_blocks) + 3);
    std::iota(pool_ids.begin(), pool_ids.end(), 0);
    std::shuffle(pool_ids.begin(), pool_ids.end(), std::mt19937(seed));
    olm::batch_builder builder(bs);
    size_t next = 0;
    std::vector<std::vector<int32_t>> tables;
    for (auto& [cached, fresh] : c.seqs) {
        std::vector<int32_t> table;
        for (int32_t b = 0; b < (cached + fresh + bs - 1) / bs; ++b) table.push_back(pool_ids[next++]);
        tables.push_back(table);
        std::vector<int32_t> tokens(size_t(fresh), 1);
        builder.add_sequence(tokens.data(), cached, fresh, tables.back().data(), tables.back().size(), olm::logits_wanted::none);
    }
    const olm::batch_view b = builder.view();
    const int64_t n_slots = int64_t(pool_ids.size()) * bs;
    // The whole cache random (the fresh tokens' K/V as if kv_write had stored them).
    const std::vector<uint16_t> k_cache = to_bf16_vector(random_floats(size_t(n_slots * kv_dim), seed + 1));
    const std::vector<uint16_t> v_cache = to_bf16_vector(random_floats(size_t(n_slots * kv_dim), seed + 2));
    const int64_t q_stride = int64_t(n_heads) * hd + 2 * kv_dim;  // q inside a QKV row, as the backend has it
    const std::vector<float> q = random_floats(size_t(b.n_tokens * q_stride), seed + 3, -2.0f, 2.0f);

    // CPU reference: dense q rows.
    std::vector<float> q_dense(size_t(b.n_tokens) * n_heads * hd);
    for (int32_t t = 0; t < b.n_tokens; ++t) {
        std::copy_n(q.data() + t * q_stride, size_t(n_heads) * hd, q_dense.data() + size_t(t) * n_heads * hd);
    }
    std::vector<float> want(q_dense.size());
    olm::thread_pool pool(2);
    olm::paged_attention(pool, b, q_dense.data(), k_cache.data(), v_cache.data(), want.data(), n_heads, c.n_kv_heads, hd, bs,
                         olm::dtype::bf16);

    // Device metadata, laid out as the backend lays it out.
    const int32_t tile_tokens = olm::cuda::attention_tile_tokens(n_heads, c.n_kv_heads);
    std::vector<int32_t> tiles(size_t(3) * size_t(b.n_seqs + b.n_tokens / tile_tokens + 1));
    const int32_t n_tiles = olm::cuda::attention_tiles(b.query_start, b.n_seqs, tile_tokens, tiles.data());
    device_vector<int32_t> d_qs(std::vector<int32_t>(b.query_start, b.query_start + b.n_seqs + 1));
    device_vector<int32_t> d_ctx(std::vector<int32_t>(b.context_lens, b.context_lens + b.n_seqs));
    device_vector<int32_t> d_indptr(std::vector<int32_t>(b.block_indptr, b.block_indptr + b.n_seqs + 1));
    device_vector<int32_t> d_indices(std::vector<int32_t>(b.block_indices, b.block_indices + b.block_indptr[b.n_seqs]));
    device_vector<int32_t> d_tiles(tiles);
    olm::cuda::attention_batch ab;
    ab.n_tokens = b.n_tokens;
    ab.query_start = d_qs.get();
    ab.context_lens = d_ctx.get();
    ab.block_indptr = d_indptr.get();
    ab.block_indices = d_indices.get();
    ab.tiles = d_tiles.get();
    ab.n_tiles = n_tiles;
    for (int32_t s = 0; s < b.n_seqs; ++s) ab.max_context_len = std::max(ab.max_context_len, b.context_lens[s]);
    if (n_splits == 0) {
        cudaDeviceProp prop{};
        olm::cuda::check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
        n_splits = olm::cuda::paged_attention_splits(ab, n_heads, c.n_kv_heads, hd, prop.multiProcessorCount, int64_t(1) << 26);
    }
    device_vector<float> d_q(q);
    device_vector<uint16_t> d_k(k_cache), d_v(v_cache);
    device_vector<uint16_t> d_out(size_t(b.n_tokens) * n_heads * hd);
    device_vector<float> d_ws(size_t(olm::cuda::paged_attention_workspace_floats(b.n_tokens, n_heads, hd, n_splits)));
    olm::cuda::launch_paged_attention(d_q.get(), q_stride, d_k.get(), d_v.get(), d_out.get(), ab, n_heads, c.n_kv_heads, hd, bs,
                                      n_splits, n_splits > 1 ? d_ws.get() : nullptr, nullptr);
    const std::vector<float> got = from_bf16_vector(d_out.to_host());
    return worst_relative_error(got, want, 0.05f);
}

}  // namespace

TEST(CudaKernels, PagedAttentionDecodeMatchesCpu) {
    OLM_REQUIRE_CUDA_DEVICE();
    uint32_t seed = 100;
    for (int32_t head_dim : {64, 128}) {
        for (int32_t group : {1, 4, 8}) {
            for (int32_t block_size : {16, 32}) {
                // Decodes: one new token over contexts of 1 to 8k (the cached part is context - 1).
                attention_case c{head_dim, 2, group, block_size, {{0, 1}, {16, 1}, {99, 1}, {1000, 1}, {8191, 1}}};
                for (int32_t splits : {1, 3, 0}) {
                    EXPECT_LE(attention_error(c, splits, seed++), 2e-2f) << describe(c) << " splits " << splits;
                }
                attention_case alone{head_dim, 8, group, block_size, {{8000, 1}}};  // batch 1, long: split-K pays
                EXPECT_LE(attention_error(alone, 0, seed++), 2e-2f) << describe(alone);
            }
        }
    }
}

TEST(CudaKernels, PagedAttentionPrefillWithPrefixHitsMatchesCpu) {
    OLM_REQUIRE_CUDA_DEVICE();
    uint32_t seed = 500;
    for (int32_t head_dim : {64, 128}) {
        for (int32_t group : {1, 4, 8}) {
            for (int32_t block_size : {16, 32}) {
                // A fresh prompt, a chunk after a prefix hit (offset on and off a block boundary), a
                // long chunk deep into the context, and decodes in the same batch.
                attention_case c{head_dim, 2, group, block_size,
                                 {{0, 50}, {block_size * 3, 37}, {223, 77}, {4096, 300}, {17, 1}, {700, 1}}};
                for (int32_t splits : {1, 2, 0}) {
                    EXPECT_LE(attention_error(c, splits, seed++), 2e-2f) << describe(c) << " splits " << splits;
                }
            }
        }
    }
}

TEST(CudaKernels, PagedAttentionRefusesUnsupportedShapes) {
    EXPECT_FALSE(olm::cuda::paged_attention_supports(8, 2, 96, 16));   // head_dim
    EXPECT_FALSE(olm::cuda::paged_attention_supports(32, 2, 128, 16)); // group 16
    EXPECT_FALSE(olm::cuda::paged_attention_supports(8, 3, 128, 16));  // not a multiple
    EXPECT_FALSE(olm::cuda::paged_attention_supports(8, 2, 128, 24));  // block size
    EXPECT_TRUE(olm::cuda::paged_attention_supports(32, 8, 128, 16));
    EXPECT_TRUE(olm::cuda::paged_attention_supports(16, 16, 64, 32));
}

TEST(CudaKernels, AttentionTilesCoverEveryTokenOnce) {
    const std::vector<int32_t> qs = {0, 1, 40, 41, 100};
    for (int32_t tile_tokens : {1, 2, 4, 16}) {
        std::vector<int32_t> tiles(size_t(3) * (4 + 100 / tile_tokens + 1));
        const int32_t n = olm::cuda::attention_tiles(qs.data(), 4, tile_tokens, tiles.data());
        std::vector<int32_t> seen(100, 0);
        for (int32_t i = 0; i < n; ++i) {
            const int32_t s = tiles[3 * i], first = tiles[3 * i + 1], count = tiles[3 * i + 2];
            ASSERT_GE(count, 1);
            ASSERT_LE(count, tile_tokens);
            ASSERT_GE(first, qs[size_t(s)]);
            ASSERT_LE(first + count, qs[size_t(s) + 1]);
            for (int32_t t = first; t < first + count; ++t) seen[size_t(t)]++;
        }
        for (int32_t t = 0; t < 100; ++t) EXPECT_EQ(seen[size_t(t)], 1) << "token " << t << " tile_tokens " << tile_tokens;
    }
}

TEST(CudaKernels, ArgmaxTakesTheSmallestIndexAmongMaxima) {
    OLM_REQUIRE_CUDA_DEVICE();
    for (int32_t vocab : {1000, 128256, 151936}) {
        const int32_t n = 9;
        std::vector<float> logits = random_floats(size_t(n) * vocab, uint32_t(vocab), -20.0f, 20.0f);
        // Row 1: a tie between two maxima; row 2: everything equal; row 3: the maximum last.
        logits[size_t(vocab) + 17] = 50.0f;
        logits[size_t(vocab) + 5000 % vocab] = 50.0f;
        std::fill(logits.begin() + 2 * size_t(vocab), logits.begin() + 3 * size_t(vocab), 1.5f);
        logits[4 * size_t(vocab) - 1] = 99.0f;
        device_vector<float> d_logits(logits);
        device_vector<int32_t> d_out(static_cast<size_t>(n));
        olm::cuda::launch_argmax(d_logits.get(), d_out.get(), n, vocab, nullptr);
        const std::vector<int32_t> got = d_out.to_host();
        for (int32_t r = 0; r < n; ++r) {
            int32_t best = 0;  // the host sampler's greedy loop
            const float* row = logits.data() + size_t(r) * vocab;
            for (int32_t i = 1; i < vocab; ++i) {
                if (row[i] > row[best]) best = i;
            }
            EXPECT_EQ(got[size_t(r)], best) << "vocab " << vocab << " row " << r;
        }
    }
}
