// c-api-engine.cpp: the engine entry points of orleansllm.h. Every function converts
// exceptions into status codes through olm::guard; step outputs live in the handle until the
// next step.
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "c-api-handles.h"
#include "engine.h"
#include "model.h"
#include "orleansllm.h"
#include "status.h"

static_assert(sizeof(olm::block_hash) == ORLEANSLLM_BLOCK_HASH_BYTES, "block hashes are packed bytes");
static_assert(sizeof(olm::token_logprob) == sizeof(orleansllm_token_logprob), "same layout");
static_assert(offsetof(olm::token_logprob, logprob) == offsetof(orleansllm_token_logprob, logprob), "same layout");
static_assert(olm::max_top_logprobs == ORLEANSLLM_MAX_TOP_LOGPROBS, "same limit");
static_assert(int32_t(olm::finish_reason::abort) == ORLEANSLLM_FINISH_ABORT, "same values");
static_assert(int32_t(olm::backend_kind::cuda) == ORLEANSLLM_BACKEND_CUDA, "same values");
static_assert(int32_t(olm::kv_event_kind::all_blocks_cleared) == ORLEANSLLM_KV_ALL_BLOCKS_CLEARED, "same values");

namespace {

void require(bool condition, const char* message) {
    if (!condition) throw olm::error(ORLEANSLLM_ERR_INVALID_ARGUMENT, message);
}

olm::sampling_params to_sampling(const orleansllm_sampling_params& c) {
    require(c.n_stop_token_ids >= 0, "n_stop_token_ids must be >= 0");
    require(c.n_stop_token_ids == 0 || c.stop_token_ids != nullptr, "stop_token_ids is NULL but n_stop_token_ids > 0");
    olm::sampling_params p;
    p.temperature = c.temperature;
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    p.repetition_penalty = c.repetition_penalty;
    p.frequency_penalty = c.frequency_penalty;
    p.presence_penalty = c.presence_penalty;
    p.max_tokens = c.max_tokens;
    p.seed = c.seed;
    p.stop_token_ids.assign(c.stop_token_ids, c.stop_token_ids + c.n_stop_token_ids);
    p.ignore_eos = c.ignore_eos != 0;
    p.logprobs = c.logprobs != 0;
    p.top_logprobs = c.top_logprobs;
    return p;
}

}  // namespace

extern "C" {

orleansllm_engine_params orleansllm_engine_default_params(void) {
    olm::engine_params d;
    orleansllm_engine_params p;
    p.block_size_tokens = d.block_size_tokens;
    p.max_batched_tokens = d.max_batched_tokens;
    p.kv_cache_bytes = d.kv_cache_bytes;
    p.max_running_requests = d.max_running_requests;
    p.max_model_len = d.max_model_len;
    p.n_threads = d.n_threads;
    p.enable_prefix_caching = d.enable_prefix_caching ? 1 : 0;
    p.backend = int32_t(d.backend);
    p.device_index = d.device_index;
    p.gpu_memory_fraction = d.gpu_memory_fraction;
    p.kv_cache_dtype = d.kv_cache_dtype;
    return p;
}

orleansllm_sampling_params orleansllm_sampling_default_params(void) {
    olm::sampling_params d;
    orleansllm_sampling_params p;
    p.temperature = d.temperature;
    p.top_k = d.top_k;
    p.top_p = d.top_p;
    p.min_p = d.min_p;
    p.repetition_penalty = d.repetition_penalty;
    p.frequency_penalty = d.frequency_penalty;
    p.presence_penalty = d.presence_penalty;
    p.max_tokens = d.max_tokens;
    p.seed = d.seed;
    p.stop_token_ids = nullptr;
    p.n_stop_token_ids = 0;
    p.ignore_eos = d.ignore_eos ? 1 : 0;
    p.logprobs = d.logprobs ? 1 : 0;
    p.top_logprobs = d.top_logprobs;
    return p;
}

int32_t orleansllm_engine_init(orleansllm_model* model, orleansllm_engine_params params, orleansllm_engine** out_engine) {
    return olm::guard([&] {
        require(model != nullptr && out_engine != nullptr, "model and out_engine must not be NULL");
        *out_engine = nullptr;
        olm::engine_params p;
        p.block_size_tokens = params.block_size_tokens;
        p.max_batched_tokens = params.max_batched_tokens;
        p.kv_cache_bytes = params.kv_cache_bytes;
        p.max_running_requests = params.max_running_requests;
        p.max_model_len = params.max_model_len;
        p.n_threads = params.n_threads;
        p.enable_prefix_caching = params.enable_prefix_caching != 0;
        require(params.backend == ORLEANSLLM_BACKEND_CPU || params.backend == ORLEANSLLM_BACKEND_CUDA,
                "backend must be ORLEANSLLM_BACKEND_CPU (0) or ORLEANSLLM_BACKEND_CUDA (1)");
        p.backend = olm::backend_kind(params.backend);
        p.device_index = params.device_index;
        p.gpu_memory_fraction = params.gpu_memory_fraction;
        p.kv_cache_dtype = params.kv_cache_dtype;
        auto e = std::make_unique<orleansllm_engine>();
        e->impl = std::make_unique<olm::engine>(*model->impl, p);
        *out_engine = e.release();
    });
}

void orleansllm_engine_free(orleansllm_engine* engine) { delete engine; }

int32_t orleansllm_engine_add_request(orleansllm_engine* engine, const int32_t* prompt, int32_t n_prompt,
                                      const orleansllm_sampling_params* sampling, const uint8_t* salt, int32_t n_salt,
                                      int32_t priority, int64_t* out_request_id) {
    return olm::guard([&] {
        require(engine != nullptr && out_request_id != nullptr, "engine and out_request_id must not be NULL");
        require(n_prompt >= 0 && (n_prompt == 0 || prompt != nullptr), "prompt must hold n_prompt >= 0 tokens");
        require(n_salt >= 0 && (n_salt == 0 || salt != nullptr), "salt must hold n_salt >= 0 bytes");
        *out_request_id = 0;
        orleansllm_sampling_params defaults = orleansllm_sampling_default_params();
        olm::sampling_params p = to_sampling(sampling != nullptr ? *sampling : defaults);
        std::vector<int32_t> tokens(prompt, prompt + n_prompt);
        std::string salt_bytes(reinterpret_cast<const char*>(salt), size_t(n_salt));
        *out_request_id = engine->impl->add_request(tokens, p, salt_bytes, priority);
    });
}

int32_t orleansllm_engine_abort(orleansllm_engine* engine, int64_t request_id) {
    return olm::guard([&] {
        require(engine != nullptr, "engine must not be NULL");
        if (!engine->impl->abort(request_id)) {
            throw olm::error(ORLEANSLLM_ERR_NOT_FOUND, "no unfinished request with id " + std::to_string(request_id));
        }
    });
}

int32_t orleansllm_engine_step(orleansllm_engine* engine, orleansllm_step_output* out) {
    return olm::guard([&] {
        require(engine != nullptr && out != nullptr, "engine and out must not be NULL");
        *out = orleansllm_step_output{};
        engine->last = engine->impl->step();
        const olm::step_output& s = engine->last;
        engine->outputs.resize(s.outputs.size());
        for (size_t i = 0; i < s.outputs.size(); i++) {
            const olm::request_output& o = s.outputs[i];
            orleansllm_request_output& c = engine->outputs[i];
            c = orleansllm_request_output{};
            c.request_id = o.request_id;
            c.new_token_ids = o.new_token_ids.data();
            c.n_new_tokens = int32_t(o.new_token_ids.size());
            c.logprobs = o.logprobs.empty() ? nullptr : o.logprobs.data();
            c.n_top_logprobs = o.top_logprobs.empty() ? 0 : o.n_top_logprobs;
            c.top_logprobs = o.top_logprobs.empty() ? nullptr
                                                    : reinterpret_cast<const orleansllm_token_logprob*>(o.top_logprobs.data());
            c.finish_reason = int32_t(o.finish);
            c.num_prompt_tokens = o.num_prompt_tokens;
            c.num_cached_tokens = o.num_cached_tokens;
        }
        engine->events.resize(s.kv_events.size());
        for (size_t i = 0; i < s.kv_events.size(); i++) {
            const olm::kv_event& e = s.kv_events[i];
            orleansllm_kv_event& c = engine->events[i];
            c = orleansllm_kv_event{};
            c.kind = int32_t(e.kind);
            c.n_hashes = int32_t(e.hashes.size());
            c.hashes = e.hashes.empty() ? nullptr : e.hashes[0].data();
            c.has_parent = e.has_parent ? 1 : 0;
            std::memcpy(c.parent_hash, e.parent_hash.data(), ORLEANSLLM_BLOCK_HASH_BYTES);
        }
        out->outputs = engine->outputs.empty() ? nullptr : engine->outputs.data();
        out->n_outputs = int32_t(engine->outputs.size());
        out->kv_events = engine->events.empty() ? nullptr : engine->events.data();
        out->n_kv_events = int32_t(engine->events.size());
        out->n_scheduled_tokens = s.num_scheduled_tokens;
        out->n_scheduled_requests = s.num_scheduled_requests;
    });
}

int32_t orleansllm_engine_has_unfinished(const orleansllm_engine* engine) {
    return engine != nullptr && engine->impl->has_unfinished() ? 1 : 0;
}

int32_t orleansllm_engine_get_stats(const orleansllm_engine* engine, orleansllm_engine_stats* out_stats) {
    return olm::guard([&] {
        require(engine != nullptr && out_stats != nullptr, "engine and out_stats must not be NULL");
        olm::engine_stats s = engine->impl->stats();
        orleansllm_engine_stats c{};
        c.n_blocks_total = s.n_blocks_total;
        c.n_blocks_used = s.n_blocks_used;
        c.n_blocks_cached = s.n_blocks_cached;
        c.n_running = s.n_running;
        c.n_waiting = s.n_waiting;
        c.block_size_tokens = engine->impl->block_size_tokens();
        c.prefix_query_tokens = s.prefix_query_tokens;
        c.prefix_hit_tokens = s.prefix_hit_tokens;
        c.n_preemptions = s.num_preemptions;
        c.kv_slots_allocated = s.kv_slots_allocated;
        c.kv_tokens_stored = s.kv_tokens_stored;
        c.n_steps = s.num_steps;
        c.n_generated_tokens = s.num_generated_tokens;
        c.max_model_len = engine->impl->max_model_len();
        *out_stats = c;
    });
}

}  // extern "C"
