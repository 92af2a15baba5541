// Scheduler: token budget, chunked prefill beside decodes, request slots, prefix hits,
// preemption by recompute (victim lowest priority, then newest), priorities, abort, and pool
// invariants over a randomized workload. A fake forward pass "computes" scheduled tokens and
// emits a fixed token whenever a request's last token was computed.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "scheduler.h"

namespace {

// What one step scheduled, by request id (requests may be gone once finished).
struct step_record {
    std::vector<std::pair<int64_t, int32_t>> scheduled;
    std::vector<int64_t> preempted;
    int32_t num_batched_tokens = 0;
};

struct harness {
    olm::kv_cache_manager kv;
    olm::scheduler sched;
    std::map<int64_t, int32_t> max_tokens;
    std::map<int64_t, std::vector<int32_t>> outputs;
    int64_t next_arrival = 0;

    harness(int32_t n_blocks, int32_t block_size, int32_t budget, int32_t max_running, bool caching = true)
        : kv(n_blocks, block_size, caching), sched({budget, max_running}, kv) {}

    void add(int64_t id, int32_t n_prompt, int32_t n_out, int32_t priority = 0, int32_t first = 1000) {
        auto r = std::make_unique<olm::request>();
        r->id = id;
        for (int32_t i = 0; i < n_prompt; i++) r->token_ids.push_back(first + i);
        r->num_prompt_tokens = n_prompt;
        r->priority = priority;
        r->arrival = next_arrival++;
        max_tokens[id] = n_out;
        sched.add_request(std::move(r));
    }

    // One engine step without a model; returns the schedule.
    step_record step() {
        olm::scheduler_output out = sched.schedule();
        step_record rec;
        for (const auto& s : out.scheduled) rec.scheduled.push_back({s.req->id, s.num_new_tokens});
        rec.preempted = out.preempted;
        rec.num_batched_tokens = out.num_batched_tokens;
        sched.update_after_forward(out);
        std::vector<int64_t> done;
        for (const auto& s : out.scheduled) {
            olm::request* r = s.req;
            if (r->num_computed_tokens < r->num_tokens()) continue;  // a prefill chunk
            int32_t token = int32_t(r->id * 10 + r->num_output_tokens());  // deterministic per position
            r->token_ids.push_back(token);
            outputs[r->id].push_back(token);
            if (r->num_output_tokens() >= max_tokens[r->id]) done.push_back(r->id);
        }
        for (int64_t id : done) sched.finish_request(id);
        kv.check_invariants();
        return rec;
    }

    int run_to_completion(int limit = 10000) {
        int steps = 0;
        while (sched.has_unfinished() && steps < limit) {
            step();
            steps++;
        }
        return steps;
    }

    int32_t scheduled_tokens(const step_record& rec, int64_t id) {
        for (const auto& s : rec.scheduled) {
            if (s.first == id) return s.second;
        }
        return 0;
    }
};

}  // namespace

TEST(Scheduler, RespectsTheTokenBudgetAndChunksLongPrompts) {
    harness h(100, 16, 128, 8);
    h.add(1, 100, 3, 0, 1000);
    h.add(2, 100, 3, 0, 2000);
    h.add(3, 100, 3, 0, 3000);
    auto s1 = h.step();
    EXPECT_EQ(s1.num_batched_tokens, 128);
    EXPECT_EQ(h.scheduled_tokens(s1, 1), 100);
    EXPECT_EQ(h.scheduled_tokens(s1, 2), 28);
    // Step 2: request 1 decodes (1 token), 2 finishes its prompt (72), 3 starts (55).
    auto s2 = h.step();
    EXPECT_EQ(h.scheduled_tokens(s2, 1), 1);
    EXPECT_EQ(h.scheduled_tokens(s2, 2), 72);
    EXPECT_EQ(h.scheduled_tokens(s2, 3), 55);
    EXPECT_EQ(s2.num_batched_tokens, 128);
    h.run_to_completion();
    for (int64_t id = 1; id <= 3; id++) EXPECT_EQ(h.outputs[id].size(), 3u);
    EXPECT_EQ(h.kv.num_used_blocks(), 0);
}

TEST(Scheduler, DecodesKeepRunningWhileALongPromptIsChunked) {
    harness h(100, 16, 64, 8);
    h.add(1, 10, 50);
    h.step();  // request 1's prompt
    h.add(2, 500, 1);
    for (int i = 0; i < 7; i++) {
        auto s = h.step();
        EXPECT_EQ(h.scheduled_tokens(s, 1), 1) << "decode must not wait for the long prompt";
        EXPECT_EQ(h.scheduled_tokens(s, 2), 63);
    }
    EXPECT_TRUE(h.outputs[2].empty());
    h.run_to_completion();
    EXPECT_EQ(h.outputs[2].size(), 1u);
    EXPECT_EQ(h.outputs[1].size(), 50u);
}

TEST(Scheduler, MaxRunningRequestsLimitsAdmission) {
    harness h(100, 16, 1000, 2);
    for (int64_t id = 1; id <= 5; id++) h.add(id, 8, 4);
    auto s = h.step();
    EXPECT_EQ(s.scheduled.size(), 2u);
    EXPECT_EQ(h.sched.num_running(), 2);
    EXPECT_EQ(h.sched.num_waiting(), 3);
    h.run_to_completion();
    for (int64_t id = 1; id <= 5; id++) EXPECT_EQ(h.outputs[id].size(), 4u);
}

TEST(Scheduler, PrefixHitsSkipComputedTokensButNeverTheLastOne) {
    harness h(100, 16, 1000, 8);
    h.add(1, 64, 1);
    h.run_to_completion();
    h.add(2, 64, 1);  // same tokens
    auto s = h.step();
    EXPECT_EQ(h.scheduled_tokens(s, 2), 16) << "3 of 4 full blocks hit; the block with the last token recomputed";
    EXPECT_EQ(h.sched.stats().prefix_query_tokens, 128);
    EXPECT_EQ(h.sched.stats().prefix_hit_tokens, 48);
    h.add(3, 70, 1);  // 64 shared tokens + 6 more
    s = h.step();
    EXPECT_EQ(h.scheduled_tokens(s, 3), 6);
}

TEST(Scheduler, PreemptsTheNewestWhenBlocksRunOutAndRecomputesIt) {
    // 8 blocks of 4 tokens; two requests of 8-token prompts growing to 24 tokens each need 12.
    harness h(8, 4, 1000, 8, false);
    h.add(1, 8, 16);
    h.add(2, 8, 16);
    bool saw_preempt_of_2 = false;
    int steps = 0;
    while (h.sched.has_unfinished() && steps++ < 1000) {
        auto s = h.step();
        for (int64_t id : s.preempted) {
            EXPECT_EQ(id, 2) << "the older request must never be the victim";
            saw_preempt_of_2 = true;
        }
    }
    EXPECT_TRUE(saw_preempt_of_2);
    EXPECT_GE(h.sched.stats().num_preemptions, 1);
    EXPECT_EQ(h.outputs[1].size(), 16u);
    EXPECT_EQ(h.outputs[2].size(), 16u);
    // Recomputation keeps the tokens already generated: output positions are contiguous.
    for (int i = 0; i < 16; i++) EXPECT_EQ(h.outputs[2][i], 20 + i);
    EXPECT_EQ(h.kv.num_used_blocks(), 0);
}

TEST(Scheduler, VictimIsTheLowestPriorityEvenIfOlder) {
    harness h(8, 4, 1000, 8, false);
    h.add(1, 8, 16, /*priority=*/5);  // older but less important
    h.add(2, 8, 16, /*priority=*/0);
    std::vector<int64_t> victims;
    int steps = 0;
    while (h.sched.has_unfinished() && steps++ < 1000) {
        auto s = h.step();
        victims.insert(victims.end(), s.preempted.begin(), s.preempted.end());
    }
    ASSERT_FALSE(victims.empty());
    for (int64_t v : victims) EXPECT_EQ(v, 1);
    EXPECT_EQ(h.outputs[1].size(), 16u);
    EXPECT_EQ(h.outputs[2].size(), 16u);
}

TEST(Scheduler, WaitingRequestsAreAdmittedByPriorityThenArrival) {
    harness h(100, 16, 1000, 1);
    h.add(1, 4, 1, 3);
    h.add(2, 4, 1, 1);
    h.add(3, 4, 1, 1);
    h.add(4, 4, 1, 0);
    std::vector<int64_t> order;
    while (h.sched.has_unfinished()) {
        auto s = h.step();
        for (const auto& x : s.scheduled) order.push_back(x.first);
    }
    EXPECT_EQ(order, (std::vector<int64_t>{4, 2, 3, 1}));
}

TEST(Scheduler, AbortMidPrefillAndMidDecodeReleasesBlocks) {
    harness h(50, 16, 32, 8);
    h.add(1, 100, 10);  // prefill takes 4 steps at 32 tokens
    h.step();
    EXPECT_GT(h.kv.num_used_blocks(), 0);
    EXPECT_TRUE(h.sched.finish_request(1));
    EXPECT_EQ(h.kv.num_used_blocks(), 0);
    EXPECT_FALSE(h.sched.finish_request(1)) << "unknown once finished";
    h.add(2, 8, 10);
    h.step();
    h.step();
    EXPECT_EQ(h.outputs[2].size(), 2u);
    EXPECT_TRUE(h.sched.finish_request(2));
    EXPECT_EQ(h.kv.num_used_blocks(), 0);
    h.add(3, 8, 1);  // a waiting request can be aborted too
    EXPECT_TRUE(h.sched.finish_request(3));
    EXPECT_FALSE(h.sched.has_unfinished());
    h.kv.check_invariants();
}

TEST(Scheduler, RandomWorkloadCompletesWithEveryBlockFreeAtTheEnd) {
    std::mt19937 rng(11);
    harness h(40, 8, 96, 6);
    int64_t id = 1;
    std::map<int64_t, int32_t> expected_out;
    for (int round = 0; round < 200; round++) {
        if (rng() % 3 == 0 && id < 60) {
            int32_t n_prompt = 1 + int32_t(rng() % 100);
            int32_t n_out = 1 + int32_t(rng() % 40);
            // Shared prefixes in half of the prompts so hits, sharing and eviction all happen.
            h.add(id, n_prompt, n_out, int32_t(rng() % 3), rng() % 2 ? 1000 : int32_t(id) * 1000);
            expected_out[id] = n_out;
            id++;
        }
        if (rng() % 17 == 0 && id > 2) h.sched.finish_request(1 + int64_t(rng() % uint32_t(id - 1)));
        auto s = h.step();
        EXPECT_LE(s.num_batched_tokens, 96);
        EXPECT_LE(h.sched.num_running(), 6);
    }
    h.run_to_completion();
    EXPECT_FALSE(h.sched.has_unfinished());
    EXPECT_EQ(h.kv.num_used_blocks(), 0);
    EXPECT_TRUE(h.kv.reset_prefix_cache());
    EXPECT_EQ(h.kv.num_cached_blocks(), 0);
    EXPECT_EQ(h.kv.num_free_blocks(), 40);
    int completed = 0;
    for (const auto& kv : expected_out) {
        if (int32_t(h.outputs[kv.first].size()) == kv.second) completed++;
        EXPECT_LE(int32_t(h.outputs[kv.first].size()), kv.second);
    }
    EXPECT_GT(completed, 30);
    EXPECT_GT(h.sched.stats().prefix_hit_tokens, 0);
}
