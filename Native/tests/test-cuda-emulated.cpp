// test-cuda-emulated.cpp: CUDA kernels (src/cuda/*-kernels.cuh, the very source nvcc compiles:
// every op of the backend) run on CPU threads under tests/cuda-emulation/cuda-emulation.h,
// against the CPU references (olm::paged_attention, olm::rms_norm, the sampler's greedy loop). Runs everywhere, GPU or not: it checks the
// kernels' indexing (CSR block tables, tiles, prefix-hit positions, causal limits), the online
// softmax and the split-K merge; not the GPU's own behaviour (timing, memory model, compiler).
#include <gtest/gtest.h>

#include "cuda-emulation/cuda-emulation.h"
#include "cuda/argmax-kernels.cuh"
#include "cuda/bias-add-kernels.cuh"
#include "cuda/embedding-kernels.cuh"
#include "cuda/kv-write-kernels.cuh"
#include "cuda/paged-attention-kernels.cuh"
#include "cuda/rmsnorm-kernels.cuh"
#include "cuda/rope-kernels.cuh"
#include "cuda/silu-mul-kernels.cuh"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "batch.h"
#include "cpu/ops.h"
#include "model-config.h"
#include "model.h"
#include "thread-pool.h"

namespace {

struct attention_case {
    int32_t head_dim, n_kv_heads, group, block_size;
    std::vector<std::pair<int32_t, int32_t>> seqs;  // (tokens already cached, tokens computed now)
};

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

template <int D>
float emulated_error(const attention_case& c, int32_t n_splits, uint32_t seed) {
    namespace kc = olm::cuda;
    const int32_t n_heads = c.n_kv_heads * c.group, bs = c.block_size;
    const int64_t kv_dim = int64_t(c.n_kv_heads) * D;
    int32_t n_blocks = 0;
    for (auto& [cached, fresh] : c.seqs) n_blocks += (cached + fresh + bs - 1) / bs;
    std::vector<int32_t> ids(size_t(n_blocks) + 2);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), std::mt19937(seed));
    olm::batch_builder builder(bs);
    std::vector<std::vector<int32_t>> tables;
    size_t next = 0;
    for (auto& [cached, fresh] : c.seqs) {
        std::vector<int32_t> t;
        for (int32_t b = 0; b < (cached + fresh + bs - 1) / bs; ++b) t.push_back(ids[next++]);
        tables.push_back(t);
        std::vector<int32_t> tokens(size_t(fresh), 1);
        builder.add_sequence(tokens.data(), cached, fresh, tables.back().data(), tables.back().size(), olm::logits_wanted::none);
    }
    const olm::batch_view b = builder.view();
    const int64_t n_slots = int64_t(ids.size()) * bs;
    std::vector<uint16_t> k_cache(size_t(n_slots * kv_dim)), v_cache(k_cache.size());
    const std::vector<float> kf = random_floats(k_cache.size(), seed + 1, -1, 1), vf = random_floats(v_cache.size(), seed + 2, -1, 1);
    for (size_t i = 0; i < k_cache.size(); ++i) {
        k_cache[i] = olm::to_bf16(kf[i]);
        v_cache[i] = olm::to_bf16(vf[i]);
    }
    const int64_t q_stride = int64_t(n_heads) * D + 2 * kv_dim;
    const std::vector<float> q = random_floats(size_t(b.n_tokens * q_stride), seed + 3, -2, 2);
    std::vector<float> q_dense(size_t(b.n_tokens) * n_heads * D), want(q_dense.size());
    for (int32_t t = 0; t < b.n_tokens; ++t) std::copy_n(q.data() + t * q_stride, size_t(n_heads) * D, q_dense.data() + size_t(t) * n_heads * D);
    olm::thread_pool pool(1);
    olm::paged_attention(pool, b, q_dense.data(), k_cache.data(), v_cache.data(), want.data(), n_heads, c.n_kv_heads, D, bs,
                         olm::dtype::bf16);

    // Tiles as the launcher cuts them: 16 / group tokens of one sequence each.
    const int32_t tile_tokens = kc::kMaxRows / c.group;
    std::vector<int32_t> tiles;
    for (int32_t s = 0; s < b.n_seqs; ++s) {
        for (int32_t t = b.query_start[s]; t < b.query_start[s + 1]; t += tile_tokens) {
            tiles.insert(tiles.end(), {s, t, std::min(tile_tokens, b.query_start[s + 1] - t)});
        }
    }
    const int32_t n_tiles = int32_t(tiles.size() / 3);
    std::vector<__nv_bfloat16> out(size_t(b.n_tokens) * n_heads * D);
    std::vector<float> workspace(size_t(n_splits) * b.n_tokens * n_heads * (D + 2), std::nanf(""));
    const float scale = 1.0f / std::sqrt(float(D));
    const auto* kcache = reinterpret_cast<const __nv_bfloat16*>(k_cache.data());
    const auto* vcache = reinterpret_cast<const __nv_bfloat16*>(v_cache.data());
    cuda_emulation::launch({unsigned(n_tiles), unsigned(c.n_kv_heads), unsigned(n_splits)}, {unsigned(kc::kThreads), 1, 1}, [&] {
        kc::paged_attention_kernel<D>(q.data(), q_stride, kcache, vcache, out.data(), workspace.data(), b.query_start,
                                      b.context_lens, b.block_indptr, b.block_indices, tiles.data(), b.n_tokens, n_heads,
                                      c.n_kv_heads, bs, n_splits, scale);
    });
    if (n_splits > 1) {
        cuda_emulation::launch({unsigned(b.n_tokens), unsigned(n_heads), 1}, {64, 1, 1}, [&] {
            kc::merge_splits_kernel<D>(workspace.data(), out.data(), b.n_tokens, n_heads, n_splits);
        });
    }
    float worst = 0.0f;
    for (size_t i = 0; i < want.size(); ++i) {
        const float e = std::fabs(olm::from_bf16(out[i].bits) - want[i]) / (std::fabs(want[i]) + 0.05f);
        if (!(e <= worst)) worst = e;  // NaN (a row never written) fails
    }
    return worst;
}

float error_for(const attention_case& c, int32_t splits, uint32_t seed) {
    return c.head_dim == 64 ? emulated_error<64>(c, splits, seed) : emulated_error<128>(c, splits, seed);
}

std::string describe(const attention_case& c, int32_t splits) {
    std::string s = "head_dim " + std::to_string(c.head_dim) + " group " + std::to_string(c.group) + " block " +
                    std::to_string(c.block_size) + " splits " + std::to_string(splits) + " seqs";
    for (auto& [cached, fresh] : c.seqs) s += " " + std::to_string(cached) + "+" + std::to_string(fresh);
    return s;
}

}  // namespace

// Slow (every CUDA thread is an OS thread), so a spread of the shapes rather than all their
// combinations: head dims 64/128, GQA 1/4/8, block sizes 16/32, one split and several.
TEST(CudaEmulated, PagedAttentionDecodeMatchesCpu) {
    const struct { int32_t head_dim, group, block_size, splits; } shapes[] = {
        {64, 1, 16, 1}, {128, 4, 32, 3}, {128, 8, 16, 2}, {64, 8, 32, 1}, {64, 4, 16, 3}};
    uint32_t seed = 1;
    for (const auto& s : shapes) {
        const attention_case c{s.head_dim, 2, s.group, s.block_size, {{0, 1}, {16, 1}, {99, 1}, {300, 1}}};
        EXPECT_LE(error_for(c, s.splits, seed++), 2e-2f) << describe(c, s.splits);
    }
}

TEST(CudaEmulated, PagedAttentionPrefillWithPrefixHitsMatchesCpu) {
    const struct { int32_t head_dim, group, block_size, splits; } shapes[] = {
        {64, 1, 16, 1}, {128, 4, 32, 2}, {128, 8, 16, 1}, {64, 4, 16, 2}};
    uint32_t seed = 100;
    for (const auto& s : shapes) {
        // A fresh prompt, a chunk after a prefix hit on a block boundary and one off it, a decode.
        const attention_case c{s.head_dim, 2, s.group, s.block_size, {{0, 9}, {s.block_size * 2, 5}, {45, 7}, {5, 1}}};
        EXPECT_LE(error_for(c, s.splits, seed++), 2e-2f) << describe(c, s.splits);
    }
}

TEST(CudaEmulated, RmsNormKernelsMatchCpu) {
    for (int32_t dim : {64, 320, 2048}) {
        const int32_t total = 5;
        const std::vector<int32_t> rows = {4, 1};
        std::vector<float> x = random_floats(size_t(total) * dim, uint32_t(dim), -2, 2);
        const std::vector<float> residual = random_floats(x.size(), uint32_t(dim + 1), -1, 1);
        const std::vector<float> weight = random_floats(size_t(dim), uint32_t(dim + 2), 0.5f, 1.5f);
        std::vector<float> x_gpu = x;
        std::vector<__nv_bfloat16> out(rows.size() * size_t(dim));
        const unsigned threads = dim >= 1024 ? 1024 : unsigned((dim + 31) / 32 * 32);  // as the launcher
        cuda_emulation::launch({unsigned(rows.size()), 1, 1}, {threads, 1, 1}, [&] {
            olm::cuda::rms_norm_residual_kernel(x_gpu.data(), residual.data(), rows.data(), weight.data(), out.data(), dim, 1e-5f);
        });
        for (size_t i = 0; i < rows.size(); ++i) {
            const size_t r = size_t(rows[i]);
            for (int32_t d = 0; d < dim; ++d) x[r * dim + d] += residual[r * dim + d];
            std::vector<float> want(static_cast<size_t>(dim));
            olm::rms_norm(x.data() + r * dim, weight.data(), want.data(), 1, dim, 1e-5f);
            for (int32_t d = 0; d < dim; ++d) {
                ASSERT_EQ(x_gpu[r * dim + d], x[r * dim + d]) << "residual, dim " << dim;
                ASSERT_NEAR(olm::from_bf16(out[i * dim + d].bits), want[size_t(d)], std::fabs(want[size_t(d)]) / 128 + 1e-3f) << "dim " << dim;
            }
        }
        // Rows not in the list are left alone.
        for (int32_t d = 0; d < dim; ++d) ASSERT_EQ(x_gpu[size_t(0) * dim + d], x[size_t(0) * dim + d]);
    }
    // Per-head norm in place, rows of a wider buffer.
    const int32_t head_dim = 128, n_heads = 3, stride = n_heads * head_dim + 32, n = 2;
    std::vector<float> h = random_floats(size_t(n) * stride, 9, -1, 1), h_gpu = h;
    const std::vector<float> w = random_floats(size_t(head_dim), 10, 0.5f, 1.5f);
    cuda_emulation::launch({unsigned(n), unsigned(n_heads), 1}, {32, 1, 1}, [&] {
        olm::cuda::head_rms_norm_kernel(h_gpu.data(), stride, w.data(), head_dim, 1e-6f);
    });
    for (int32_t t = 0; t < n; ++t) {
        for (int32_t hh = 0; hh < n_heads; ++hh) olm::rms_norm(h.data() + size_t(t) * stride + size_t(hh) * head_dim, w.data(),
                                                                h.data() + size_t(t) * stride + size_t(hh) * head_dim, 1, head_dim, 1e-6f);
    }
    for (size_t i = 0; i < h.size(); ++i) ASSERT_NEAR(h_gpu[i], h[i], 1e-5f) << i;
}

TEST(CudaEmulated, ArgmaxKernelTakesTheSmallestIndexAmongMaxima) {
    const int32_t vocab = 3000, n = 4;
    std::vector<float> logits = random_floats(size_t(n) * vocab, 11, -20, 20);
    logits[size_t(vocab) + 2900] = 50.0f;  // row 1: a tie, the smaller index wins
    logits[size_t(vocab) + 17] = 50.0f;
    std::fill(logits.begin() + 2 * vocab, logits.begin() + 3 * vocab, 1.5f);  // row 2: all equal
    logits[4 * size_t(vocab) - 1] = 99.0f;                                    // row 3: the last
    std::vector<int32_t> got(size_t(n), -1);
    cuda_emulation::launch({unsigned(n), 1, 1}, {1024, 1, 1}, [&] { olm::cuda::argmax_kernel(logits.data(), got.data(), vocab); });
    for (int32_t r = 0; r < n; ++r) {
        int32_t best = 0;
        for (int32_t i = 1; i < vocab; ++i) {
            if (logits[size_t(r) * vocab + i] > logits[size_t(r) * vocab + best]) best = i;
        }
        EXPECT_EQ(got[size_t(r)], best) << "row " << r;
    }
    EXPECT_EQ(got[1], 17);
    EXPECT_EQ(got[2], 0);
    EXPECT_EQ(got[3], vocab - 1);
}

TEST(CudaEmulated, RopeKernelMatchesCpuWithLlama3Scaling) {
    for (int32_t head_dim : {64, 128}) {
        olm::model_config c;
        c.head_dim = head_dim;
        c.rope.theta = 500000.0f;
        c.rope.llama3_scaling = true;
        c.rope.factor = 8.0f;
        const std::vector<float> inv_freq = olm::rope_frequencies(c);
        const int32_t n = 4, n_heads = 3, stride = n_heads * head_dim + 40, half = head_dim / 2;
        const std::vector<int32_t> positions = {0, 17, 4095, 8191};
        std::vector<float> x = random_floats(size_t(n) * stride, uint32_t(head_dim), -1, 1), x_gpu = x;
        const unsigned threads = unsigned(half < 32 ? 32 : half);  // as the launcher
        cuda_emulation::launch({unsigned(n), unsigned(n_heads), 1}, {threads, 1, 1}, [&] {
            olm::cuda::rope_kernel(x_gpu.data(), stride, positions.data(), inv_freq.data(), head_dim);
        });
        std::vector<float> cos_t(static_cast<size_t>(half)), sin_t(static_cast<size_t>(half));
        for (int32_t t = 0; t < n; ++t) {
            for (int32_t i = 0; i < half; ++i) {
                const float angle = float(positions[size_t(t)]) * inv_freq[size_t(i)];
                cos_t[size_t(i)] = std::cos(angle);
                sin_t[size_t(i)] = std::sin(angle);
            }
            olm::rope(x.data() + size_t(t) * stride, 1, n_heads, head_dim, cos_t.data(), sin_t.data());
        }
        for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x_gpu[i], x[i], 1e-6f) << "head_dim " << head_dim << " at " << i;
    }
}

TEST(CudaEmulated, KvWriteSiluMulEmbeddingAndBiasKernelsMatchCpu) {
    // K/V write through a slot mapping, a padding slot skipped.
    const int32_t n = 5, kv_dim = 256, stride = 3 * kv_dim, n_slots = 12;
    const std::vector<float> rows = random_floats(size_t(n) * stride, 20, -1, 1);
    const std::vector<int64_t> slots = {7, 2, -1, 11, 0};
    std::vector<__nv_bfloat16> k(size_t(n_slots) * kv_dim, __nv_bfloat16{0}), v = k;
    cuda_emulation::launch({unsigned(n), 1, 1}, {256, 1, 1}, [&] {
        olm::cuda::kv_write_kernel(rows.data() + kv_dim, rows.data() + 2 * kv_dim, stride, slots.data(), k.data(), v.data(), kv_dim);
    });
    for (int32_t t = 0; t < n; ++t) {
        if (slots[size_t(t)] < 0) continue;
        for (int32_t i = 0; i < kv_dim; ++i) {
            ASSERT_EQ(k[size_t(slots[size_t(t)]) * kv_dim + i].bits, olm::to_bf16(rows[size_t(t) * stride + kv_dim + i]));
            ASSERT_EQ(v[size_t(slots[size_t(t)]) * kv_dim + i].bits, olm::to_bf16(rows[size_t(t) * stride + 2 * kv_dim + i]));
        }
    }
    for (int32_t i = 0; i < kv_dim; ++i) ASSERT_EQ(k[size_t(1) * kv_dim + i].bits, 0) << "slot 1 is nobody's";

    // SiLU·mul over the fused gate/up rows (a grid smaller than the work: the grid-stride loop).
    const int32_t m = 3, inter = 700;
    const std::vector<float> gate_up = random_floats(size_t(m) * 2 * inter, 21, -6, 6);
    std::vector<__nv_bfloat16> act(size_t(m) * inter);
    cuda_emulation::launch({2, 1, 1}, {256, 1, 1}, [&] {
        olm::cuda::silu_mul_kernel(gate_up.data(), act.data(), int64_t(m) * inter, inter);
    });
    for (int32_t t = 0; t < m; ++t) {
        std::vector<float> want(static_cast<size_t>(inter));
        olm::silu_mul(gate_up.data() + size_t(t) * 2 * inter, gate_up.data() + size_t(t) * 2 * inter + inter, want.data(), 1, inter);
        for (int32_t i = 0; i < inter; ++i) {
            ASSERT_NEAR(olm::from_bf16(act[size_t(t) * inter + i].bits), want[size_t(i)], std::fabs(want[size_t(i)]) / 128 + 1e-4f);
        }
    }

    // Embedding gather and bias add.
    const int32_t vocab = 50, hidden = 96;
    std::vector<__nv_bfloat16> table(size_t(vocab) * hidden);
    const std::vector<float> tf = random_floats(table.size(), 22, -1, 1);
    for (size_t i = 0; i < table.size(); ++i) table[i].bits = olm::to_bf16(tf[i]);
    const std::vector<int32_t> ids = {49, 0, 7};
    std::vector<float> emb(ids.size() * size_t(hidden), -1.0f);
    cuda_emulation::launch({unsigned(ids.size()), 1, 1}, {64, 1, 1}, [&] {
        olm::cuda::embedding_kernel(table.data(), ids.data(), emb.data(), hidden);
    });
    for (size_t t = 0; t < ids.size(); ++t) {
        for (int32_t i = 0; i < hidden; ++i) ASSERT_EQ(emb[t * hidden + i], olm::from_bf16(table[size_t(ids[t]) * hidden + i].bits));
    }
    const std::vector<float> bias = random_floats(size_t(hidden), 23, -1, 1);
    std::vector<float> with_bias = emb;
    cuda_emulation::launch({1, 1, 1}, {64, 1, 1}, [&] {
        olm::cuda::bias_add_kernel(with_bias.data(), bias.data(), int64_t(ids.size()) * hidden, hidden);
    });
    for (size_t i = 0; i < emb.size(); ++i) ASSERT_EQ(with_bias[i], emb[i] + bias[i % size_t(hidden)]);
}
