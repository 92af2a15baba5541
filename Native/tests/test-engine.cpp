// Engine integration on a tiny Llama from tests/golden/llama: batching, prefix-hit,
// chunked-prefill and preemption equivalence with runs alone; abort; salt isolation; seeds
// across batch compositions; KV events; bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine.h"
#include "forward.h"
#include "model.h"
#include "status.h"

namespace {

const olm::model& tiny_model() {
    static std::unique_ptr<olm::model> m = olm::load_model(std::string(OLM_REPO_ROOT) + "/tests/golden/llama", 2);
    return *m;
}

struct result {
    std::vector<int32_t> tokens;
    std::vector<std::vector<float>> logits;  // one row per generated token
    olm::finish_reason finish = olm::finish_reason::none;
    int32_t num_cached_tokens = -1;
};

// The KV cache type of the running EngineKv test (its parameter): 0 = the model's (F32 here).
int32_t kv_cache_dtype = 0;

// Bytes of n blocks of 4 tokens in the running test's KV cache type.
int64_t kv_blocks_bytes(int64_t n) {
    return n * olm::kv_storage::bytes_per_block(tiny_model(), 4, tiny_model().kv_type(kv_cache_dtype));
}

olm::engine_params small_params() {
    olm::engine_params p;
    p.block_size_tokens = 4;
    p.kv_cache_dtype = kv_cache_dtype;
    p.kv_cache_bytes = kv_blocks_bytes(256);
    p.max_batched_tokens = 256;
    p.max_running_requests = 16;
    p.record_logits = true;
    return p;
}

olm::sampling_params greedy(int32_t max_tokens) {
    olm::sampling_params s;
    s.temperature = 0.0f;
    s.max_tokens = max_tokens;
    s.ignore_eos = true;
    return s;
}

std::vector<int32_t> prompt_of(int32_t n, int32_t seed) {
    std::vector<int32_t> p;
    for (int32_t i = 0; i < n; i++) p.push_back(3 + (i * 37 + seed * 11) % 150);
    return p;
}

void gather(const olm::step_output& s, std::map<int64_t, result>& out) {
        for (auto& o : s.outputs) {
            result& r = out[o.request_id];
            for (size_t t = 0; t < o.new_token_ids.size(); t++) {
                r.tokens.push_back(o.new_token_ids[t]);
                if (!o.logits.empty()) r.logits.push_back(o.logits);
            }
            if (o.finish != olm::finish_reason::none) r.finish = o.finish;
            r.num_cached_tokens = o.num_cached_tokens;
        }
}

// Steps until every request finished, gathering outputs by id.
std::map<int64_t, result> drain(olm::engine& e, std::vector<olm::kv_event>* events = nullptr, int limit = 5000,
                                std::map<int64_t, result> out = {}) {
    for (int i = 0; i < limit && e.has_unfinished(); i++) {
        olm::step_output s = e.step();
        gather(s, out);
        if (events) events->insert(events->end(), s.kv_events.begin(), s.kv_events.end());
    }
    EXPECT_FALSE(e.has_unfinished()) << "engine did not finish within " << limit << " steps";
    return out;
}

result run_alone(const std::vector<int32_t>& prompt, const olm::sampling_params& s,
                 olm::engine_params p = small_params()) {
    p.enable_prefix_caching = false;
    olm::engine e(tiny_model(), p);
    int64_t id = e.add_request(prompt, s, "", 0);
    return drain(e)[id];
}

void expect_same(const result& a, const result& b, const char* what, float tol = 1e-4f) {
    EXPECT_EQ(a.tokens, b.tokens) << what;
    ASSERT_EQ(a.logits.size(), b.logits.size()) << what;
    float worst = 0.0f;
    for (size_t i = 0; i < a.logits.size(); i++) {
        ASSERT_EQ(a.logits[i].size(), b.logits[i].size());
        for (size_t j = 0; j < a.logits[i].size(); j++) worst = std::max(worst, std::fabs(a.logits[i][j] - b.logits[i][j]));
    }
    EXPECT_LE(worst, tol) << what << ": largest logit difference";
}

// The serving-core tests run once per KV cache type: the model's (F32), BF16 and INT8. The type
// must change nothing about batching, chunking, prefix caching, preemption, aborts or events;
// each test compares runs over the same cache type, so they hold to the same tolerances.
class EngineKv : public ::testing::TestWithParam<int32_t> {
protected:
    void SetUp() override { kv_cache_dtype = GetParam(); }
    void TearDown() override { kv_cache_dtype = 0; }
};

}  // namespace

TEST_P(EngineKv, ConcurrentRequestsEqualEachRunAlone) {
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < 6; i++) prompts.push_back(prompt_of(5 + 9 * i, i));
    std::vector<result> alone;
    for (auto& p : prompts) alone.push_back(run_alone(p, greedy(12)));

    olm::engine_params params = small_params();
    params.enable_prefix_caching = false;
    olm::engine e(tiny_model(), params);
    std::vector<int64_t> ids;
    for (size_t i = 0; i < 3; i++) ids.push_back(e.add_request(prompts[i], greedy(12), "", 0));
    std::map<int64_t, result> early;
    gather(e.step(), early);
    gather(e.step(), early);
    // Later arrivals join a running batch (continuous batching).
    for (size_t i = 3; i < prompts.size(); i++) ids.push_back(e.add_request(prompts[i], greedy(12), "", 0));
    auto out = drain(e, nullptr, 5000, early);
    for (size_t i = 0; i < prompts.size(); i++) {
        EXPECT_EQ(out[ids[i]].tokens.size(), 12u);
        EXPECT_EQ(out[ids[i]].finish, olm::finish_reason::length);
        expect_same(out[ids[i]], alone[i], "batched vs alone");
    }
    EXPECT_EQ(e.stats().n_blocks_used, 0);
}

TEST_P(EngineKv, ChunkedPrefillEqualsOneShotPrefill) {
    auto prompt = prompt_of(61, 3);
    result whole = run_alone(prompt, greedy(6));
    olm::engine_params p = small_params();
    p.max_batched_tokens = 7;
    result chunked = run_alone(prompt, greedy(6), p);
    expect_same(chunked, whole, "chunked vs whole");
}

TEST_P(EngineKv, PrefixHitReusesBlocksWithTheSameLogits) {
    auto prompt = prompt_of(42, 5);
    result cold = run_alone(prompt, greedy(5));
    olm::engine e(tiny_model(), small_params());
    int64_t first = e.add_request(prompt, greedy(5), "", 0);
    auto a = drain(e);
    EXPECT_EQ(a[first].num_cached_tokens, 0);
    int64_t second = e.add_request(prompt, greedy(5), "", 0);
    auto b = drain(e);
    EXPECT_EQ(b[second].num_cached_tokens, 40) << "10 full 4-token blocks of 42 tokens";
    expect_same(b[second], cold, "prefix hit vs cold");
    olm::engine_stats st = e.stats();
    EXPECT_EQ(st.prefix_query_tokens, 84);
    EXPECT_EQ(st.prefix_hit_tokens, 40);
    // A prompt extending a generated conversation hits the generated blocks too.
    std::vector<int32_t> longer = prompt;
    longer.insert(longer.end(), b[second].tokens.begin(), b[second].tokens.end());
    longer.push_back(7);
    int64_t third = e.add_request(longer, greedy(2), "", 0);
    auto c = drain(e);
    EXPECT_EQ(c[third].num_cached_tokens, 44) << "prompt + 4 generated tokens with K/V: 11 blocks";
    expect_same(c[third], run_alone(longer, greedy(2)), "hit on generated blocks vs cold");
}

TEST_P(EngineKv, SaltIsolatesTheCache) {
    auto prompt = prompt_of(33, 8);
    olm::engine e(tiny_model(), small_params());
    e.add_request(prompt, greedy(1), "tenant-a", 0);
    drain(e);
    int64_t other = e.add_request(prompt, greedy(1), "tenant-b", 0);
    auto b = drain(e);
    EXPECT_EQ(b[other].num_cached_tokens, 0);
    int64_t same = e.add_request(prompt, greedy(1), "tenant-a", 0);
    auto c = drain(e);
    EXPECT_EQ(c[same].num_cached_tokens, 32);
}

TEST_P(EngineKv, TooSmallKvBudgetPreemptsAndStillMatchesRunsAlone) {
    olm::engine_params p = small_params();
    p.kv_cache_bytes = kv_blocks_bytes(24);  // 96 token slots
    p.enable_prefix_caching = false;
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < 4; i++) prompts.push_back(prompt_of(14 + 3 * i, 20 + i));
    std::vector<result> alone;
    for (auto& pr : prompts) alone.push_back(run_alone(pr, greedy(20), p));
    olm::engine e(tiny_model(), p);
    std::vector<int64_t> ids;
    for (auto& pr : prompts) ids.push_back(e.add_request(pr, greedy(20), "", 0));
    auto out = drain(e);
    EXPECT_GT(e.stats().num_preemptions, 0);
    for (size_t i = 0; i < prompts.size(); i++) {
        EXPECT_EQ(out[ids[i]].tokens.size(), 20u);
        expect_same(out[ids[i]], alone[i], "with preemption vs alone");
    }
    EXPECT_EQ(e.stats().n_blocks_used, 0);
}

TEST_P(EngineKv, PreemptionWithPrefixCachingRecomputesFromCachedBlocks) {
    olm::engine_params p = small_params();
    p.kv_cache_bytes = kv_blocks_bytes(24);
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < 4; i++) prompts.push_back(prompt_of(14 + 3 * i, 20 + i));
    olm::engine e(tiny_model(), p);
    std::vector<int64_t> ids;
    for (auto& pr : prompts) ids.push_back(e.add_request(pr, greedy(20), "", 0));
    auto out = drain(e);
    EXPECT_GT(e.stats().num_preemptions, 0);
    for (size_t i = 0; i < prompts.size(); i++) {
        expect_same(out[ids[i]], run_alone(prompts[i], greedy(20), p), "preempted with caching vs alone");
    }
    EXPECT_TRUE(e.reset_prefix_cache());
    EXPECT_EQ(e.stats().n_blocks_used, 0);
}

TEST_P(EngineKv, AbortMidPrefillAndMidDecodeFreesBlocksAndOthersContinue) {
    olm::engine_params p = small_params();
    p.max_batched_tokens = 8;
    olm::engine e(tiny_model(), p);
    auto keep_prompt = prompt_of(10, 1);
    int64_t keep = e.add_request(keep_prompt, greedy(10), "", 0);
    int64_t long_prefill = e.add_request(prompt_of(100, 2), greedy(10), "", 0);
    int64_t decoding = e.add_request(prompt_of(3, 3), greedy(50), "", /*priority=*/-1);
    std::map<int64_t, result> got;
    for (int i = 0; i < 4; i++) gather(e.step(), got);
    EXPECT_TRUE(got[long_prefill].tokens.empty()) << "still in prefill";
    EXPECT_FALSE(got[decoding].tokens.empty()) << "already decoding";
    const olm::engine_stats before = e.stats();
    EXPECT_EQ(before.n_running, 3);
    EXPECT_TRUE(e.abort(long_prefill));
    EXPECT_TRUE(e.abort(decoding));
    EXPECT_FALSE(e.abort(99999));
    olm::step_output s = e.step();
    gather(s, got);
    // The engine side, right after the aborting step (the survivor still runs): the two are gone
    // and their blocks are free, so only the survivor's blocks are in use.
    const olm::engine_stats after = e.stats();
    EXPECT_EQ(after.n_running, 1);
    EXPECT_EQ(after.n_waiting, 0);
    const int32_t survivor_tokens = int32_t(keep_prompt.size() + got[keep].tokens.size());
    EXPECT_LE(after.n_blocks_used, (survivor_tokens + 3) / 4) << "block size 4: at most the survivor's blocks";
    EXPECT_LT(after.n_blocks_used, before.n_blocks_used);
    int aborted = 0;
    for (auto& o : s.outputs) {
        if (o.request_id == long_prefill || o.request_id == decoding) {
            EXPECT_EQ(o.finish, olm::finish_reason::abort);
            aborted++;
        }
    }
    EXPECT_EQ(aborted, 2);
    EXPECT_FALSE(e.abort(decoding)) << "already finished";
    auto rest = drain(e, nullptr, 5000, got);
    EXPECT_TRUE(rest[long_prefill].tokens.empty());
    EXPECT_EQ(rest[keep].tokens.size(), 10u);
    expect_same(rest[keep], run_alone(keep_prompt, greedy(10)), "survivor vs alone");
    EXPECT_EQ(e.stats().n_blocks_used, 0);
    EXPECT_EQ(e.stats().n_running, 0);
}

TEST_P(EngineKv, SeededSamplingIgnoresBatchComposition) {
    olm::sampling_params s;
    s.temperature = 0.9f;
    s.top_p = 0.95f;
    s.seed = 1234;
    s.max_tokens = 15;
    s.ignore_eos = true;
    auto prompt = prompt_of(9, 4);
    result alone = run_alone(prompt, s);
    olm::engine e(tiny_model(), small_params());
    olm::sampling_params noisy = s;
    noisy.seed = -1;
    e.add_request(prompt_of(30, 9), noisy, "", 0);
    e.add_request(prompt, noisy, "", 0);
    e.step();
    int64_t id = e.add_request(prompt, s, "", 0);
    e.add_request(prompt_of(5, 1), noisy, "", 0);
    auto out = drain(e);
    EXPECT_EQ(out[id].tokens, alone.tokens);
    // And a different seed is a different stream.
    olm::sampling_params other = s;
    other.seed = 99;
    EXPECT_NE(run_alone(prompt, other).tokens, alone.tokens);
}

TEST_P(EngineKv, StopTokensEosAndLogprobs) {
    auto prompt = prompt_of(12, 6);
    result free_run = run_alone(prompt, greedy(8));
    olm::sampling_params s = greedy(8);
    s.stop_token_ids = {free_run.tokens[3]};
    auto first = std::find(free_run.tokens.begin(), free_run.tokens.end(), free_run.tokens[3]);
    result stopped = run_alone(prompt, s);
    EXPECT_EQ(stopped.finish, olm::finish_reason::stop);
    EXPECT_EQ(stopped.tokens.size(), size_t(first - free_run.tokens.begin()) + 1);

    olm::engine e(tiny_model(), small_params());
    olm::sampling_params lp = greedy(3);
    lp.logprobs = true;
    lp.top_logprobs = 4;
    e.add_request(prompt, lp, "", 0);
    olm::step_output out = e.step();
    ASSERT_EQ(out.outputs.size(), 1u);
    const olm::request_output& o = out.outputs[0];
    ASSERT_EQ(o.logprobs.size(), 1u);
    ASSERT_EQ(o.top_logprobs.size(), 4u);
    EXPECT_EQ(o.top_logprobs[0].token_id, o.new_token_ids[0]) << "greedy picks the most likely";
    EXPECT_FLOAT_EQ(o.top_logprobs[0].logprob, o.logprobs[0]);
    EXPECT_LT(o.logprobs[0], 0.0f);
    EXPECT_GE(o.top_logprobs[0].logprob, o.top_logprobs[3].logprob);
}

TEST_P(EngineKv, ReportsStoredBlocksWithTheSharedHashes) {
    auto prompt = prompt_of(13, 2);
    olm::engine e(tiny_model(), small_params());
    std::vector<olm::kv_event> events;
    e.add_request(prompt, greedy(1), "salt", 0);
    drain(e, &events);
    std::vector<olm::block_hash> expected;
    olm::extend_block_hashes(expected, "salt", prompt.data(), 13, 4);
    std::vector<olm::block_hash> stored;
    for (auto& ev : events) {
        ASSERT_EQ(ev.kind, olm::kv_event_kind::block_stored);
        stored.insert(stored.end(), ev.hashes.begin(), ev.hashes.end());
    }
    EXPECT_EQ(stored, expected);
    EXPECT_TRUE(e.reset_prefix_cache());
    auto after = e.step().kv_events;
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].kind, olm::kv_event_kind::all_blocks_cleared);
}

TEST_P(EngineKv, BadInputGetsAClearStatusAndTheEngineKeepsServing) {
    olm::engine_params p = small_params();
    p.max_model_len = 64;
    olm::engine e(tiny_model(), p);
    auto status_of = [&](const std::vector<int32_t>& prompt, const olm::sampling_params& s) {
        try {
            e.add_request(prompt, s, "", 0);
            return int32_t(ORLEANSLLM_OK);
        } catch (const olm::error& err) {
            EXPECT_STRNE(err.what(), "");
            return err.status();
        }
    };
    EXPECT_EQ(status_of({}, greedy(1)), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of({1, 2, 160}, greedy(1)), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of({1, -1}, greedy(1)), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of(prompt_of(64, 1), greedy(1)), ORLEANSLLM_ERR_CAPACITY);
    olm::sampling_params bad = greedy(1);
    bad.top_p = 0.0f;
    EXPECT_EQ(status_of({1, 2}, bad), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_FALSE(e.has_unfinished());
    // Still serving; a request reaching the context limit ends with "length".
    int64_t id = e.add_request(prompt_of(60, 1), greedy(100), "", 0);
    auto out = drain(e);
    EXPECT_EQ(out[id].tokens.size(), 4u);
    EXPECT_EQ(out[id].finish, olm::finish_reason::length);

    olm::engine_params tiny_budget = small_params();
    tiny_budget.kv_cache_bytes = 10;
    try {
        olm::engine bad_engine(tiny_model(), tiny_budget);
        ADD_FAILURE() << "a KV budget below one block was accepted";
    } catch (const olm::error& err) {
        EXPECT_EQ(err.status(), ORLEANSLLM_ERR_CAPACITY);
    }
    olm::engine_params zero_batch = small_params();
    zero_batch.max_batched_tokens = 0;
    EXPECT_THROW(olm::engine(tiny_model(), zero_batch), olm::error);
}

TEST(EngineCApi, GeneratesReportsEventsAndReturnsStatusesForBadInput) {
    orleansllm_model* model = nullptr;
    orleansllm_model_params mp = orleansllm_model_default_params();
    mp.n_threads = 2;
    ASSERT_EQ(orleansllm_model_load((std::string(OLM_REPO_ROOT) + "/tests/golden/llama").c_str(), mp, &model), ORLEANSLLM_OK);
    orleansllm_engine_params ep = orleansllm_engine_default_params();
    EXPECT_EQ(ep.block_size_tokens, 16);
    EXPECT_EQ(ep.enable_prefix_caching, 1);
    ep.kv_cache_bytes = 4 << 20;
    orleansllm_engine* engine = nullptr;
    ASSERT_EQ(orleansllm_engine_init(model, ep, &engine), ORLEANSLLM_OK) << orleansllm_last_error();

    auto prompt = prompt_of(40, 3);
    orleansllm_sampling_params sp = orleansllm_sampling_default_params();
    EXPECT_EQ(sp.seed, -1);
    sp.temperature = 0.0f;
    sp.max_tokens = 5;
    sp.ignore_eos = 1;
    sp.logprobs = 1;
    sp.top_logprobs = 2;
    const uint8_t salt[] = {'t', '1'};
    int64_t id = 0;
    ASSERT_EQ(orleansllm_engine_add_request(engine, prompt.data(), 40, &sp, salt, 2, 0, &id), ORLEANSLLM_OK);
    EXPECT_GT(id, 0);
    std::vector<int32_t> tokens;
    int32_t stored_hashes = 0;
    int32_t finish = ORLEANSLLM_FINISH_NONE;
    for (int i = 0; i < 100 && orleansllm_engine_has_unfinished(engine); i++) {
        orleansllm_step_output out;
        ASSERT_EQ(orleansllm_engine_step(engine, &out), ORLEANSLLM_OK);
        for (int32_t k = 0; k < out.n_outputs; k++) {
            const orleansllm_request_output& o = out.outputs[k];
            EXPECT_EQ(o.request_id, id);
            ASSERT_EQ(o.n_top_logprobs, 2);
            ASSERT_NE(o.logprobs, nullptr);
            EXPECT_EQ(o.top_logprobs[0].token_id, o.new_token_ids[0]);
            tokens.insert(tokens.end(), o.new_token_ids, o.new_token_ids + o.n_new_tokens);
            finish = o.finish_reason;
        }
        for (int32_t k = 0; k < out.n_kv_events; k++) {
            if (out.kv_events[k].kind == ORLEANSLLM_KV_BLOCK_STORED) stored_hashes += out.kv_events[k].n_hashes;
        }
    }
    EXPECT_EQ(tokens, run_alone(prompt, greedy(5)).tokens);
    EXPECT_EQ(finish, ORLEANSLLM_FINISH_LENGTH);
    EXPECT_EQ(stored_hashes, 2) << "40 prompt + 4 computed output tokens: two full 16-token blocks";
    orleansllm_engine_stats st;
    ASSERT_EQ(orleansllm_engine_get_stats(engine, &st), ORLEANSLLM_OK);
    EXPECT_EQ(st.n_blocks_used, 0);
    EXPECT_EQ(st.n_blocks_cached, 2);
    EXPECT_EQ(st.n_generated_tokens, 5);
    EXPECT_EQ(st.block_size_tokens, 16);

    EXPECT_EQ(orleansllm_engine_abort(engine, id), ORLEANSLLM_ERR_NOT_FOUND);
    EXPECT_NE(std::string(orleansllm_last_error()).find("no unfinished request"), std::string::npos);
    EXPECT_EQ(orleansllm_engine_add_request(engine, prompt.data(), 0, &sp, nullptr, 0, 0, &id), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(orleansllm_last_error()).find("empty"), std::string::npos);
    sp.top_logprobs = 50;
    EXPECT_EQ(orleansllm_engine_add_request(engine, prompt.data(), 40, &sp, nullptr, 0, 0, &id), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    std::vector<int32_t> too_long(600, 5);
    EXPECT_EQ(orleansllm_engine_add_request(engine, too_long.data(), 600, nullptr, nullptr, 0, 0, &id), ORLEANSLLM_ERR_CAPACITY);
    EXPECT_EQ(orleansllm_engine_add_request(engine, prompt.data(), 40, nullptr, nullptr, 0, 0, &id), ORLEANSLLM_OK);
    EXPECT_EQ(orleansllm_engine_abort(engine, id), ORLEANSLLM_OK);
    orleansllm_step_output out;
    ASSERT_EQ(orleansllm_engine_step(engine, &out), ORLEANSLLM_OK);
    ASSERT_EQ(out.n_outputs, 1);
    EXPECT_EQ(out.outputs[0].finish_reason, ORLEANSLLM_FINISH_ABORT);
    EXPECT_EQ(orleansllm_engine_has_unfinished(engine), 0);

    ep.kv_cache_bytes = 1;
    orleansllm_engine* bad = nullptr;
    EXPECT_EQ(orleansllm_engine_init(model, ep, &bad), ORLEANSLLM_ERR_CAPACITY);
    EXPECT_EQ(bad, nullptr);
    orleansllm_engine_free(engine);
    orleansllm_model_free(model);
}

// backend = cuda where it cannot run: a status and a message that say why, never a crash.
TEST(Engine, CudaBackendUnavailableIsAClearError) {
    if (olm::cuda_device_available()) GTEST_SKIP() << "a CUDA device is present: tests/cuda/ cover the backend";
    olm::engine_params p = small_params();
    p.backend = olm::backend_kind::cuda;
    try {
        olm::engine e(tiny_model(), p);
        FAIL() << "backend cuda was accepted without CUDA";
    } catch (const olm::error& e) {
        EXPECT_EQ(e.status(), ORLEANSLLM_ERR_UNSUPPORTED);
#ifdef OLM_WITH_CUDA
        EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
#else
        EXPECT_NE(std::string(e.what()).find("built without CUDA"), std::string::npos) << e.what();
#endif
    }
    p.gpu_memory_fraction = 1.5f;
    try {
        olm::engine e(tiny_model(), p);
        FAIL() << "gpu_memory_fraction 1.5 was accepted";
    } catch (const olm::error& e) {
        EXPECT_EQ(e.status(), ORLEANSLLM_ERR_INVALID_ARGUMENT);
    }
}

INSTANTIATE_TEST_SUITE_P(Engine, EngineKv, ::testing::Values(0, ORLEANSLLM_DTYPE_BF16, ORLEANSLLM_DTYPE_KV_INT8),
                         [](const ::testing::TestParamInfo<int32_t>& info) {
                             return info.param == 0 ? std::string("ModelDefault") : olm::dtype_name(olm::dtype(info.param));
                         });
