// scheduler.h: continuous batching. Owns the waiting and running queues and the per-step token
// budget; the only caller of the KV cache manager. Every request is num_computed_tokens
// catching up with num_tokens, so prefill chunks, prefix hits and decodes are one case.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "kv-cache-manager.h"
#include "request.h"

namespace olm {

struct scheduler_config {
    int32_t max_batched_tokens = 2048;  // tokens computed per step, all requests together
    int32_t max_running_requests = 64;
};

struct scheduled_request {
    request* req = nullptr;
    int32_t num_new_tokens = 0;    // tokens computed this step, from req->num_computed_tokens on
    kv_cache_blocks blocks;        // the request's block table for this step
};

struct scheduler_output {
    std::vector<scheduled_request> scheduled;  // in running order
    int32_t num_batched_tokens = 0;
    std::vector<int64_t> preempted;            // request ids preempted in this step
};

struct scheduler_stats {
    int64_t num_preemptions = 0;
    int64_t prefix_query_tokens = 0;  // tokens looked up in the prefix cache at admission
    int64_t prefix_hit_tokens = 0;    // of which found cached
};

class scheduler {
public:
    scheduler(const scheduler_config& config, kv_cache_manager& kv);

    // Queues a request (status waiting). Precondition: its id is not in use.
    void add_request(std::unique_ptr<request> r);

    // Picks this step's work: running requests first (in admission order), preempting by
    // recompute when blocks run out (victim: lowest priority, then newest), then waiting ones
    // in priority/arrival order while budget, request slots and blocks last. Prompts longer
    // than the remaining budget are chunked.
    scheduler_output schedule();

    // After the forward pass: scheduled tokens are now computed; full blocks become cached.
    void update_after_forward(const scheduler_output& out);

    // Ends a request: frees its blocks and forgets it. False when the id is unknown.
    bool finish_request(int64_t id);

    request* find(int64_t id);
    int32_t num_running() const { return int32_t(running_.size()); }
    int32_t num_waiting() const { return int32_t(waiting_.size()); }
    bool has_unfinished() const { return !running_.empty() || !waiting_.empty(); }
    const scheduler_stats& stats() const { return stats_; }
    const std::vector<request*>& running() const { return running_; }

private:
    void preempt(request* victim);
    void insert_waiting(request* r);

    scheduler_config config_;
    kv_cache_manager& kv_;
    std::unordered_map<int64_t, std::unique_ptr<request>> requests_;
    std::vector<request*> running_;  // admission order
    std::deque<request*> waiting_;   // sorted by (priority, arrival)
    scheduler_stats stats_;
};

}  // namespace olm
