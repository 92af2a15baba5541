// test-cuda-engine.cpp: the CUDA backend as a whole. Full-model logits CUDA vs CPU on tiny random
// models (llama with GQA, llama3 rope scaling, qwen2 biases, qwen3 q/k norms and tied
// embeddings) at bf16 tolerance; the serving core's equivalence properties rerun on CUDA
// (batched = alone, prefix hits = recompute, preemption = no preemption); clear errors for
// shapes the kernels do not take. Without a CUDA device every test is skipped with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "backend.h"
#include "batch.h"
#include "cuda-test-util.h"
#include "engine.h"
#include "model.h"
#include "random-model.h"
#include "status.h"

namespace {

using olm::model_config;
using olm::testing::llama_like_config;

struct named_config {
    const char* name;
    model_config config;
};

std::vector<named_config> tiny_configs() {
    std::vector<named_config> out;
    out.push_back({"llama gqa4 hd64", llama_like_config(512, 256, 512, 2, 8, 2, 64)});
    model_config llama3 = llama_like_config(512, 256, 384, 2, 4, 1, 64);
    llama3.rope.theta = 500000.0f;
    llama3.rope.llama3_scaling = true;
    llama3.rope.factor = 8.0f;
    llama3.rope.original_max_positions = 64;  // short, so that the scaling bends frequencies the test reaches
    out.push_back({"llama3 scaling gqa4", llama3});
    model_config qwen2 = llama_like_config(640, 256, 512, 2, 4, 4, 64);
    qwen2.architecture = olm::arch::qwen2;
    qwen2.qkv_bias = true;
    out.push_back({"qwen2 biases mha", qwen2});
    model_config qwen3 = llama_like_config(768, 512, 768, 2, 8, 1, 128);
    qwen3.architecture = olm::arch::qwen3;
    qwen3.qk_norm = true;
    qwen3.tie_word_embeddings = true;
    out.push_back({"qwen3 qk-norm tied gqa8 hd128", qwen3});
    return out;
}

// Relative L2 error of one logits row.
float row_error(const float* got, const float* want, int32_t n) {
    double num = 0.0, den = 0.0;
    for (int32_t i = 0; i < n; ++i) {
        num += double(got[i] - want[i]) * double(got[i] - want[i]);
        den += double(want[i]) * double(want[i]);
    }
    return float(std::sqrt(num / std::max(den, 1e-30)));
}

// BF16 activations into every GEMM (the CPU keeps them in float32): about 1% per row.
constexpr float kLogitsTolerance = 0.03f;

}  // namespace

TEST(CudaBackend, LogitsMatchCpuOnTinyModels) {
    OLM_REQUIRE_CUDA_DEVICE();
    for (const named_config& nc : tiny_configs()) {
        auto m = olm::testing::make_random_model(nc.config, 7, 2);
        const int32_t vocab = nc.config.vocab_size, bs = 16, n_blocks = 64;
        auto cpu = olm::make_cpu_backend(*m, *m->pool, m->kv_type());
        olm::cuda_backend_params p;
        p.max_batched_tokens = 256;
        auto gpu = olm::make_cuda_backend(*m, p);
        cpu->allocate_kv(n_blocks, bs);
        gpu->allocate_kv(n_blocks, bs);

        // Step 1: two prompts (all logits of the first, the last of the second). Step 2: a decode
        // of each plus a third sequence whose first 32 tokens are "cached" (a prefix hit on the
        // first sequence's blocks) — the same blocks, so both backends read the K/V they wrote.
        std::vector<int32_t> a(45), b(70);
        for (size_t i = 0; i < a.size(); ++i) a[i] = int32_t((i * 131 + 7) % size_t(vocab));
        for (size_t i = 0; i < b.size(); ++i) b[i] = int32_t((i * 71 + 3) % size_t(vocab));
        std::vector<int32_t> table_a = {5, 9, 2, 40}, table_b = {11, 12, 13, 30, 31};
        olm::batch_builder step1(bs);
        step1.add_sequence(a.data(), 0, int32_t(a.size()), table_a.data(), table_a.size(), olm::logits_wanted::all);
        step1.add_sequence(b.data(), 0, int32_t(b.size()), table_b.data(), table_b.size(), olm::logits_wanted::last);
        const olm::batch_view v1 = step1.view();
        std::vector<float> want(size_t(v1.n_logits) * vocab), got(want.size());
        cpu->forward(v1, want.data());
        gpu->forward(v1, got.data());
        for (int32_t r = 0; r < v1.n_logits; ++r) {
            EXPECT_LE(row_error(got.data() + size_t(r) * vocab, want.data() + size_t(r) * vocab, vocab), kLogitsTolerance)
                << nc.name << " prefill row " << r;
        }

        const int32_t next_a = 17, next_b = 23;
        std::vector<int32_t> c(40);
        for (size_t i = 0; i < c.size(); ++i) c[i] = i < 32 ? a[i] : int32_t((i * 29 + 1) % size_t(vocab));
        std::vector<int32_t> table_c = {5, 9, 50};  // blocks 0-1 shared with a (32 tokens), then its own
        olm::batch_builder step2(bs);
        step2.add_sequence(&next_a, int32_t(a.size()), 1, table_a.data(), table_a.size(), olm::logits_wanted::last);
        step2.add_sequence(&next_b, int32_t(b.size()), 1, table_b.data(), table_b.size(), olm::logits_wanted::last);
        step2.add_sequence(c.data() + 32, 32, 8, table_c.data(), table_c.size(), olm::logits_wanted::all);
        const olm::batch_view v2 = step2.view();
        want.assign(size_t(v2.n_logits) * vocab, 0.0f);
        got.assign(want.size(), 0.0f);
        cpu->forward(v2, want.data());
        gpu->forward(v2, got.data());
        for (int32_t r = 0; r < v2.n_logits; ++r) {
            EXPECT_LE(row_error(got.data() + size_t(r) * vocab, want.data() + size_t(r) * vocab, vocab), kLogitsTolerance)
                << nc.name << " decode/prefix-hit row " << r;
        }
    }
}

// Decode steps replay CUDA graphs (padded to 1, 2, 4, ... sequences); the same steps run
// eagerly (use_cuda_graphs off) and on the CPU give the same logits.
TEST(CudaBackend, DecodeGraphsMatchEagerStepsAndCpu) {
    OLM_REQUIRE_CUDA_DEVICE();
    for (size_t mi : {size_t(0), size_t(3)}) {
        const named_config& nc = tiny_configs()[mi];
        auto m = olm::testing::make_random_model(nc.config, 21, 2);
        const int32_t vocab = nc.config.vocab_size, bs = 16;
        olm::cuda_backend_params graphs, eager;
        graphs.max_batched_tokens = eager.max_batched_tokens = 256;
        eager.use_cuda_graphs = false;
        std::vector<std::unique_ptr<olm::forward_backend>> backends;
        backends.push_back(olm::make_cuda_backend(*m, graphs));
        backends.push_back(olm::make_cuda_backend(*m, eager));
        backends.push_back(olm::make_cpu_backend(*m, *m->pool, m->kv_type()));
        for (auto& b : backends) b->allocate_kv(64, bs);
        // Three sequences of different lengths, their own blocks.
        std::vector<std::vector<int32_t>> seqs = {std::vector<int32_t>(20), std::vector<int32_t>(33), std::vector<int32_t>(7)};
        for (size_t s = 0; s < seqs.size(); ++s) {
            for (size_t i = 0; i < seqs[s].size(); ++i) seqs[s][i] = int32_t((i * 97 + s * 13 + 5) % size_t(vocab));
        }
        std::vector<std::vector<int32_t>> tables = {{0, 1, 2, 3}, {10, 11, 12, 13, 14}, {20, 21, 22}};
        olm::batch_builder prefill(bs);
        for (size_t s = 0; s < seqs.size(); ++s) {
            prefill.add_sequence(seqs[s].data(), 0, int32_t(seqs[s].size()), tables[s].data(), tables[s].size(), olm::logits_wanted::last);
        }
        std::vector<float> scratch(size_t(prefill.n_logits()) * vocab);
        for (auto& b : backends) b->forward(prefill.view(), scratch.data());
        for (int step = 0; step < 6; ++step) {
            // Steps 0-2: all three (graph of 4, one padding row); 3-5: the first alone (graph of 1).
            const size_t n_seqs = step < 3 ? seqs.size() : 1;
            olm::batch_builder decode(bs);
            const int32_t next = (step * 31 + 3) % vocab;
            for (size_t s = 0; s < n_seqs; ++s) {
                decode.add_sequence(&next, int32_t(seqs[s].size()), 1, tables[s].data(), tables[s].size(), olm::logits_wanted::last);
                seqs[s].push_back(next);
            }
            std::vector<std::vector<float>> out(backends.size(), std::vector<float>(n_seqs * size_t(vocab)));
            for (size_t bi = 0; bi < backends.size(); ++bi) backends[bi]->forward(decode.view(), out[bi].data());
            for (size_t r = 0; r < n_seqs; ++r) {
                const float* g = out[0].data() + r * size_t(vocab);
                EXPECT_LE(row_error(g, out[1].data() + r * size_t(vocab), vocab), 5e-3f) << nc.name << " step " << step << " row " << r << ": graph vs eager";
                EXPECT_LE(row_error(g, out[2].data() + r * size_t(vocab), vocab), kLogitsTolerance) << nc.name << " step " << step << " row " << r << ": graph vs cpu";
            }
        }
    }
}

namespace {

struct result {
    std::vector<int32_t> tokens;
    std::vector<std::vector<float>> logits;
    int32_t num_cached_tokens = 0;
};

olm::sampling_params greedy(int32_t max_tokens) {
    olm::sampling_params s;
    s.temperature = 0.0f;
    s.max_tokens = max_tokens;
    s.ignore_eos = true;
    return s;
}

std::map<int64_t, result> drain(olm::engine& e) {
    std::map<int64_t, result> out;
    for (int i = 0; i < 10000 && e.has_unfinished(); ++i) {
        for (auto& o : e.step().outputs) {
            result& r = out[o.request_id];
            r.tokens.insert(r.tokens.end(), o.new_token_ids.begin(), o.new_token_ids.end());
            if (!o.logits.empty()) r.logits.push_back(o.logits);
            r.num_cached_tokens = o.num_cached_tokens;
        }
    }
    EXPECT_FALSE(e.has_unfinished());
    return out;
}

// Same greedy tokens, except that the two runs may part at a near tie (the batch changes the
// GEMM shapes cuBLAS picks, so logits differ in the last bits): up to the first different token
// the logits agree at bf16 tolerance, and there the two choices were within `tie` of each other.
void expect_equivalent(const result& got, const result& want, const std::string& what, float tie = 0.05f) {
    ASSERT_EQ(got.tokens.size(), want.tokens.size()) << what;
    for (size_t i = 0; i < want.tokens.size(); ++i) {
        ASSERT_LT(i, got.logits.size());
        const int32_t vocab = int32_t(want.logits[i].size());
        EXPECT_LE(row_error(got.logits[i].data(), want.logits[i].data(), vocab), kLogitsTolerance) << what << " token " << i;
        if (got.tokens[i] != want.tokens[i]) {
            const float margin = want.logits[i][size_t(want.tokens[i])] - want.logits[i][size_t(got.tokens[i])];
            EXPECT_LE(margin, tie) << what << ": token " << i << " differs without a near tie";
            return;
        }
    }
}

olm::engine_params cuda_params(const olm::model& m, int32_t block_size, int32_t n_blocks) {
    olm::engine_params p;
    p.backend = olm::backend_kind::cuda;
    p.block_size_tokens = block_size;
    p.kv_cache_bytes = int64_t(n_blocks) * 2 * m.config.n_layers * block_size * m.config.n_kv_heads * m.config.head_dim * 2;
    p.max_batched_tokens = 128;
    p.max_running_requests = 16;
    p.record_logits = true;
    return p;
}

std::vector<int32_t> prompt_of(int32_t n, int32_t seed, int32_t vocab) {
    std::vector<int32_t> p;
    for (int32_t i = 0; i < n; i++) p.push_back(3 + (i * 37 + seed * 11) % (vocab - 3));
    return p;
}

}  // namespace

TEST(CudaEngine, BatchedPrefixHitAndPreemptedRunsEqualRunsAlone) {
    OLM_REQUIRE_CUDA_DEVICE();
    for (int32_t block_size : {16, 32}) {
        auto m = olm::testing::make_random_model(tiny_configs()[0].config, 11, 2);
        const int32_t vocab = m->config.vocab_size;
        // Six prompts; 3-5 share a 70-token prefix with 0 (prefix hits once 0 is cached).
        std::vector<std::vector<int32_t>> prompts;
        for (int i = 0; i < 6; ++i) prompts.push_back(prompt_of(30 + 23 * i, i, vocab));
        for (int i = 3; i < 6; ++i) {
            std::vector<int32_t> p(prompts[0].begin(), prompts[0].begin() + std::min<size_t>(70, prompts[0].size()));
            p.insert(p.end(), prompts[size_t(i)].begin(), prompts[size_t(i)].end());
            prompts[size_t(i)] = p;
        }
        std::vector<result> alone;
        for (auto& p : prompts) {
            olm::engine_params ap = cuda_params(*m, block_size, 256);
            ap.enable_prefix_caching = false;
            olm::engine e(*m, ap);
            const int64_t id = e.add_request(p, greedy(20), "", 0);
            alone.push_back(drain(e)[id]);
        }
        // CUDA alone vs the CPU engine: the same model, the same tokens up to a near tie.
        {
            olm::engine_params cp = cuda_params(*m, block_size, 256);
            cp.backend = olm::backend_kind::cpu;
            cp.enable_prefix_caching = false;
            olm::engine e(*m, cp);
            const int64_t id = e.add_request(prompts[1], greedy(20), "", 0);
            expect_equivalent(alone[1], drain(e)[id], "cuda vs cpu, block " + std::to_string(block_size));
        }
        // Batched with prefix caching: 0 first, the rest join while it runs.
        {
            olm::engine e(*m, cuda_params(*m, block_size, 256));
            std::vector<int64_t> ids = {e.add_request(prompts[0], greedy(20), "", 0)};
            e.step();
            for (size_t i = 1; i < prompts.size(); ++i) ids.push_back(e.add_request(prompts[i], greedy(20), "", 0));
            // Request 0's first token came in the step above, not gathered: only 1-5 are compared.
            auto out = drain(e);
            for (size_t i = 1; i < prompts.size(); ++i) {
                expect_equivalent(out[ids[i]], alone[i], "batched, block " + std::to_string(block_size) + ", request " + std::to_string(i));
            }
            int32_t hits = 0;
            for (size_t i = 3; i < prompts.size(); ++i) hits += out[ids[i]].num_cached_tokens;
            EXPECT_GT(hits, 0) << "prompts 3-5 share a prefix with prompt 0";
            EXPECT_GT(e.stats().prefix_hit_tokens, 0);
        }
        // A KV budget too small for all at once: preemption by recompute.
        {
            olm::engine e(*m, cuda_params(*m, block_size, block_size == 16 ? 24 : 12));
            std::vector<int64_t> ids;
            for (auto& p : prompts) ids.push_back(e.add_request(p, greedy(20), "", 0));
            auto out = drain(e);
            EXPECT_GT(e.stats().num_preemptions, 0) << "the budget was meant to force preemption";
            for (size_t i = 0; i < prompts.size(); ++i) {
                expect_equivalent(out[ids[i]], alone[i], "preempted, block " + std::to_string(block_size) + ", request " + std::to_string(i));
            }
        }
    }
}

// Greedy requests without penalties or logprobs take their tokens from the device's argmax
// (only ids come back); with record_logits the host sampler picks them: the same tokens.
TEST(CudaEngine, DeviceGreedyEqualsHostSampler) {
    OLM_REQUIRE_CUDA_DEVICE();
    auto m = olm::testing::make_random_model(tiny_configs()[3].config, 5, 2);
    std::vector<std::vector<int32_t>> tokens(2);
    for (int pass = 0; pass < 2; ++pass) {
        olm::engine_params p = cuda_params(*m, 16, 256);
        p.record_logits = pass == 1;  // pass 0: device argmax; pass 1: logits to the host sampler
        olm::engine e(*m, p);
        std::vector<int64_t> ids;
        for (int i = 0; i < 4; ++i) ids.push_back(e.add_request(prompt_of(20 + 9 * i, i, m->config.vocab_size), greedy(16), "", 0));
        auto out = drain(e);
        for (int64_t id : ids) tokens[size_t(pass)].insert(tokens[size_t(pass)].end(), out[id].tokens.begin(), out[id].tokens.end());
    }
    EXPECT_EQ(tokens[0].size(), 64u);
    EXPECT_EQ(tokens[0], tokens[1]);
}

TEST(CudaEngine, RefusesShapesTheKernelsDoNotTake) {
    OLM_REQUIRE_CUDA_DEVICE();
    // head_dim 16 (the golden llama): UNSUPPORTED with the reason, no crash.
    auto small_head = olm::testing::make_random_model(llama_like_config(256, 64, 128, 1, 4, 2, 16), 1, 1);
    olm::engine_params p;
    p.backend = olm::backend_kind::cuda;
    try {
        olm::engine e(*small_head, p);
        ADD_FAILURE() << "head_dim 16 was accepted";
    } catch (const olm::error& e) {
        EXPECT_EQ(e.status(), ORLEANSLLM_ERR_UNSUPPORTED);
        EXPECT_NE(std::string(e.what()).find("head_dim"), std::string::npos) << e.what();
    }
    auto m = olm::testing::make_random_model(tiny_configs()[0].config, 1, 1);
    p.block_size_tokens = 4;
    try {
        olm::engine e(*m, p);
        ADD_FAILURE() << "block size 4 was accepted";
    } catch (const olm::error& e) {
        EXPECT_EQ(e.status(), ORLEANSLLM_ERR_UNSUPPORTED);
        EXPECT_NE(std::string(e.what()).find("block size"), std::string::npos) << e.what();
    }
    p.block_size_tokens = 16;
    p.device_index = 999;
    try {
        olm::engine e(*m, p);
        ADD_FAILURE() << "device 999 was accepted";
    } catch (const olm::error& e) {
        EXPECT_EQ(e.status(), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    }
}
