// engine.h: the serving loop. step() = schedule → run (model runner: forward) → postprocess
// (sample, append tokens, finish requests), between applying the adds/aborts queued by other
// threads and publishing stats and KV events.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "kv-cache-manager.h"
#include "kv-event.h"
#include "model-runner.h"
#include "request.h"
#include "sampler.h"
#include "scheduler.h"

namespace olm {

struct model;
class thread_pool;

struct engine_params {
    int32_t block_size_tokens = 16;
    int64_t kv_cache_bytes = int64_t(1) << 30;  // K/V memory budget; decides the number of blocks
    int32_t max_batched_tokens = 512;           // tokens computed per step
    int32_t max_running_requests = 32;
    int32_t max_model_len = 0;                  // tokens per request (prompt + output); 0 = the model's limit
    int32_t n_threads = 0;                      // 0 = the model's thread pool
    bool enable_prefix_caching = true;
    bool record_logits = false;                 // tests: copy each sampled row's raw logits into the output
    backend_kind backend = backend_kind::cpu;
    int32_t kv_cache_dtype = 0;                 // C API value (orleansllm_engine_params); 0 = the model's (model::kv_type)
    int32_t device_index = 0;                   // cuda: which device
    float gpu_memory_fraction = 0.9f;           // cuda: share of device memory for weights, workspace and K/V
};

struct request_output {
    int64_t request_id = 0;
    std::vector<int32_t> new_token_ids;
    std::vector<float> logprobs;               // [new tokens] when asked for
    int32_t n_top_logprobs = 0;
    std::vector<token_logprob> top_logprobs;   // [new tokens × n_top_logprobs]
    finish_reason finish = finish_reason::none;
    int32_t num_prompt_tokens = 0;
    int32_t num_cached_tokens = 0;             // prompt tokens served by the prefix cache
    std::vector<float> logits;                 // [new tokens × vocab] when record_logits
};

struct step_output {
    std::vector<request_output> outputs;
    std::vector<kv_event> kv_events;
    int32_t num_scheduled_tokens = 0;
    int32_t num_scheduled_requests = 0;
};

struct engine_stats {
    int32_t n_blocks_total = 0;
    int32_t n_blocks_used = 0;
    int32_t n_blocks_cached = 0;
    int32_t n_running = 0;
    int32_t n_waiting = 0;
    int64_t prefix_query_tokens = 0;
    int64_t prefix_hit_tokens = 0;
    int64_t num_preemptions = 0;
    int64_t kv_slots_allocated = 0;  // used blocks × block size, after the last step
    int64_t kv_tokens_stored = 0;    // tokens whose K/V those blocks hold
    int64_t num_steps = 0;
    int64_t num_generated_tokens = 0;
};

class engine {
public:
    // Throws olm::error on invalid params or a KV budget below one block.
    engine(const model& m, const engine_params& params);
    ~engine();

    // Queues a request; returns its id (> 0). Validates everything here so that step() never
    // fails on bad input. Thread-safe.
    int64_t add_request(const std::vector<int32_t>& prompt, const sampling_params& sampling,
                        const std::string& salt, int32_t priority);

    // Aborts a queued, waiting or running request: the next step reports it finished with
    // finish_reason::abort and frees its blocks. False when the id is unknown or already
    // finished. Thread-safe.
    bool abort(int64_t request_id);

    // One iteration. Not reentrant: one step at a time (add_request/abort may run meanwhile).
    step_output step();

    // Forgets every cached prefix block (reported as all cleared); false when some block is in use.
    // Call between steps.
    bool reset_prefix_cache();

    bool has_unfinished() const;
    engine_stats stats() const;  // thread-safe snapshot
    int32_t max_model_len() const { return max_model_len_; }
    int32_t block_size_tokens() const { return params_.block_size_tokens; }
    int32_t n_blocks() const { return n_blocks_; }
    const char* backend_name() const { return backend_->name(); }

private:
    // Moves queued adds into the scheduler and finishes queued aborts (reported in `result`).
    void apply_pending(step_output& result);
    void postprocess(const scheduler_output& out, step_output& result);
    bool greedy_only(const scheduler_output& out) const;
    // Updates the counters of stats() and forgets the ids reported finished.
    void publish_stats(const step_output& result);

    const model& model_;
    engine_params params_;
    std::unique_ptr<thread_pool> own_pool_;
    std::unique_ptr<forward_backend> backend_;
    int32_t n_blocks_ = 0;
    int32_t max_model_len_ = 0;
    kv_cache_manager kv_;
    scheduler scheduler_;
    std::unique_ptr<model_runner> runner_;
    sampler sampler_;
    std::vector<int32_t> eos_token_ids_;

    mutable std::mutex mutex_;  // guards everything below
    std::vector<std::unique_ptr<request>> pending_adds_;
    std::vector<int64_t> pending_aborts_;
    std::unordered_set<int64_t> live_ids_;  // added and not yet reported finished
    int64_t next_id_ = 1;
    int64_t next_arrival_ = 0;
    std::mt19937_64 seed_source_;
    engine_stats stats_;
};

}  // namespace olm
