#include "engine.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "model.h"
#include "status.h"
#include "thread-pool.h"

namespace olm {

namespace {

void invalid(const std::string& message) { throw error(ORLEANSLLM_ERR_INVALID_ARGUMENT, message); }

const engine_params& validated(const engine_params& p) {
    if (p.block_size_tokens < 1 || p.block_size_tokens > 1024) invalid("block_size_tokens must be in [1, 1024]");
    if (p.kv_cache_bytes <= 0) invalid("kv_cache_bytes must be > 0");
    if (p.max_batched_tokens < 1) invalid("max_batched_tokens must be >= 1");
    if (p.max_running_requests < 1) invalid("max_running_requests must be >= 1");
    if (p.max_model_len < 0) invalid("max_model_len must be >= 0 (0 = the model's limit)");
    if (p.n_threads < 0) invalid("n_threads must be >= 0");
    if (p.backend != backend_kind::cpu && p.backend != backend_kind::cuda) invalid("backend must be 0 (cpu) or 1 (cuda)");
    if (p.device_index < 0) invalid("device_index must be >= 0");
    if (!(p.gpu_memory_fraction > 0.0f && p.gpu_memory_fraction <= 1.0f)) invalid("gpu_memory_fraction must be in (0, 1]");
    return p;
}

// A pool of the engine's own when it asks for a thread count the model's pool does not have.
std::unique_ptr<thread_pool> own_pool_for(const model& m, const engine_params& p) {
    if (p.n_threads > 0 && (m.pool == nullptr || m.pool->size() != p.n_threads)) return std::make_unique<thread_pool>(p.n_threads);
    return nullptr;
}

// Whether any matrix of `m` is stored quantized (a quantized GGUF, or weights quantized at load).
bool has_quantized_matrices(const model& m) {
    bool any = false;
    for_each_projection(m, [&](const matrix& w) { any |= dtype_is_quantized(w.type); });
    return any;
}

std::unique_ptr<forward_backend> backend_for(const model& m, const engine_params& p, thread_pool* own_pool) {
    const dtype kv_type = m.kv_type(p.kv_cache_dtype);
    if (p.backend == backend_kind::cuda) {
        // The CUDA kernels keep a BF16 cache (cuda/kv-write.cu, cuda/paged-attention.cu).
        if (kv_type == dtype::kv_int8) {
            throw error(ORLEANSLLM_ERR_UNSUPPORTED, "kv_cache_dtype INT8 is not supported by the cuda backend (BF16 KV cache only); use the cpu backend");
        }
        // Its upload widens F32 / F16 / BF16 matrices to BF16; quantized blocks it cannot read.
        if (has_quantized_matrices(m)) {
            throw error(ORLEANSLLM_ERR_UNSUPPORTED,
                        "quantized weights are not supported by the cuda backend (F32, F16 and BF16 only); use the cpu backend");
        }
        cuda_backend_params c;
        c.device_index = p.device_index;
        c.gpu_memory_fraction = p.gpu_memory_fraction;
        c.max_batched_tokens = p.max_batched_tokens;
        c.max_logits_rows = std::min(p.max_batched_tokens, p.max_running_requests);  // one per scheduled request
        return make_cuda_backend(m, c);
    }
    thread_pool* pool = own_pool != nullptr ? own_pool : m.pool.get();
    if (pool == nullptr) throw error(ORLEANSLLM_ERR_INTERNAL, "the model has no thread pool");
    return make_cpu_backend(m, *pool, kv_type);
}

// How many blocks the KV budget buys on the backend.
int32_t blocks_for(const forward_backend& b, const engine_params& p) {
    const int64_t per_block = b.kv_bytes_per_block(p.block_size_tokens);
    const int64_t n = b.max_kv_blocks(p.block_size_tokens, p.kv_cache_bytes);
    if (n < 1) {
        throw error(ORLEANSLLM_ERR_CAPACITY, "kv_cache_bytes " + std::to_string(p.kv_cache_bytes) + " (or the " + b.name() +
                                                 " device's free memory) is below one block (" + std::to_string(per_block) + " bytes)");
    }
    return int32_t(std::min<int64_t>(n, 1 << 24));
}

int32_t model_len_for(const model& m, const engine_params& p, int32_t n_blocks) {
    int64_t len = m.config.max_position_embeddings;
    if (p.max_model_len > 0) {
        if (p.max_model_len > len) {
            throw error(ORLEANSLLM_ERR_CAPACITY, "max_model_len " + std::to_string(p.max_model_len) +
                                                     " exceeds the model's max_position_embeddings " + std::to_string(len));
        }
        len = p.max_model_len;
    }
    // A request alone must always fit in the KV cache, so that preemption can always make room.
    return int32_t(std::min<int64_t>(len, int64_t(n_blocks) * p.block_size_tokens));
}

}  // namespace

engine::engine(const model& m, const engine_params& params)
    : model_(m), params_(validated(params)), own_pool_(own_pool_for(m, params)),
      backend_(backend_for(m, params, own_pool_.get())), n_blocks_(blocks_for(*backend_, params)),
      max_model_len_(model_len_for(m, params, n_blocks_)),
      kv_(n_blocks_, params.block_size_tokens, params.enable_prefix_caching),
      scheduler_(scheduler_config{params.max_batched_tokens, params.max_running_requests}, kv_),
      sampler_(m.config.vocab_size), eos_token_ids_(m.config.eos_token_ids),
      seed_source_(std::random_device{}()) {
    backend_->allocate_kv(n_blocks_, params.block_size_tokens);
    runner_ = std::make_unique<model_runner>(m, *backend_, params.block_size_tokens);
    stats_.n_blocks_total = n_blocks_;
}

engine::~engine() = default;

int64_t engine::add_request(const std::vector<int32_t>& prompt, const sampling_params& sampling,
                            const std::string& salt, int32_t priority) {
    const int32_t vocab = model_.config.vocab_size;
    if (prompt.empty()) invalid("the prompt is empty");
    for (size_t i = 0; i < prompt.size(); i++) {
        if (prompt[i] < 0 || prompt[i] >= vocab) {
            invalid("token id " + std::to_string(prompt[i]) + " at index " + std::to_string(i) +
                    " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
        }
    }
    if (int64_t(prompt.size()) + 1 > max_model_len_) {
        throw error(ORLEANSLLM_ERR_CAPACITY, "a prompt of " + std::to_string(prompt.size()) +
                                                 " tokens leaves no room for output within the context limit of " +
                                                 std::to_string(max_model_len_) + " tokens");
    }
    validate_sampling_params(sampling, vocab);

    auto r = std::make_unique<request>();
    r->token_ids = prompt;
    r->num_prompt_tokens = int32_t(prompt.size());
    r->priority = priority;
    r->salt = salt;
    r->sampling = sampling;
    std::lock_guard<std::mutex> lock(mutex_);
    r->id = next_id_++;
    r->arrival = next_arrival_++;
    r->seed = sampling.seed >= 0 ? uint64_t(sampling.seed) : seed_source_();
    int64_t id = r->id;
    live_ids_.insert(id);
    pending_adds_.push_back(std::move(r));
    stats_.n_waiting++;
    return id;
}

bool engine::abort(int64_t request_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (live_ids_.count(request_id) == 0) return false;
    pending_aborts_.push_back(request_id);
    return true;
}

bool engine::has_unfinished() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return !live_ids_.empty();
}

engine_stats engine::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

bool engine::reset_prefix_cache() { return kv_.reset_prefix_cache(); }

// Like nano-vllm's LLMEngine.step: schedule, run, postprocess. Around it: the adds and aborts
// queued by other threads since the last step, and the counters other threads read.
step_output engine::step() {
    step_output result;
    apply_pending(result);
    scheduler_output out = scheduler_.schedule();
    result.num_scheduled_tokens = out.num_batched_tokens;
    result.num_scheduled_requests = int32_t(out.scheduled.size());
    if (!out.scheduled.empty()) runner_->run(out, greedy_only(out));
    scheduler_.update_after_forward(out);
    postprocess(out, result);
    result.kv_events = kv_.take_events();
    publish_stats(result);
    return result;
}

// True when every scheduled request samples by plain argmax (greedy, no penalties, no logprobs)
// and no test records logits: then the backend may pick the tokens itself (CUDA: on the device).
bool engine::greedy_only(const scheduler_output& out) const {
    if (params_.record_logits) return false;
    for (const scheduled_request& s : out.scheduled) {
        const sampling_params& p = s.req->sampling;
        const bool greedy = p.temperature == 0.0f || p.top_k == 1;
        const bool penalties = p.repetition_penalty != 1.0f || p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f;
        if (!greedy || penalties || p.logprobs) return false;
    }
    return true;
}

void engine::apply_pending(step_output& result) {
    std::vector<std::unique_ptr<request>> adds;
    std::vector<int64_t> aborts;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        adds.swap(pending_adds_);
        aborts.swap(pending_aborts_);
    }
    for (auto& r : adds) scheduler_.add_request(std::move(r));
    for (int64_t id : aborts) {
        request* r = scheduler_.find(id);
        if (r == nullptr) continue;  // finished in the meantime, and reported so
        request_output o;
        o.request_id = id;
        o.finish = finish_reason::abort;
        o.num_prompt_tokens = r->num_prompt_tokens;
        o.num_cached_tokens = std::max(0, r->num_cached_tokens);
        scheduler_.finish_request(id);
        result.outputs.push_back(std::move(o));
    }
}

void engine::publish_stats(const step_output& result) {
    int64_t slots = 0, stored = 0;
    std::vector<const request*> holders(scheduler_.running().begin(), scheduler_.running().end());
    kv_.usage(holders, &slots, &stored);
    std::lock_guard<std::mutex> lock(mutex_);
    for (const request_output& o : result.outputs) {
        if (o.finish != finish_reason::none) live_ids_.erase(o.request_id);
        stats_.num_generated_tokens += int64_t(o.new_token_ids.size());
    }
    stats_.n_blocks_used = kv_.num_used_blocks();
    stats_.n_blocks_cached = kv_.num_cached_blocks();
    stats_.n_running = scheduler_.num_running();
    stats_.n_waiting = scheduler_.num_waiting() + int32_t(pending_adds_.size());
    stats_.prefix_query_tokens = scheduler_.stats().prefix_query_tokens;
    stats_.prefix_hit_tokens = scheduler_.stats().prefix_hit_tokens;
    stats_.num_preemptions = scheduler_.stats().num_preemptions;
    stats_.kv_slots_allocated = slots;
    stats_.kv_tokens_stored = stored;
    stats_.num_steps++;
}

// Samples a token for every request whose last token was computed, appends it, and finishes
// the requests that hit a stop token, eos, max_tokens or the context limit.
void engine::postprocess(const scheduler_output& out, step_output& result) {
    const int32_t vocab = model_.config.vocab_size;
    std::vector<int64_t> finished;
    for (size_t i = 0; i < out.scheduled.size(); i++) {
        const int32_t row = runner_->logits_row(i);
        if (row < 0) continue;  // a prompt chunk: no token due yet
        request& r = *out.scheduled[i].req;
        const sampling_params& p = r.sampling;
        sample_result s;
        const float* logits = nullptr;
        if (runner_->has_greedy_tokens()) {
            s.token_id = runner_->greedy_token(row);  // greedy_only() held: the sampler's argmax, taken by the backend
        } else {
            logits = runner_->logits(row);
            s = sampler_.sample(logits, p, r.seed, r.token_ids.data(), r.num_tokens(), r.num_prompt_tokens);
        }
        r.token_ids.push_back(s.token_id);

        request_output o;
        o.request_id = r.id;
        o.new_token_ids.push_back(s.token_id);
        if (p.logprobs) {
            o.logprobs.push_back(s.logprob);
            o.n_top_logprobs = p.top_logprobs;
            o.top_logprobs = s.top;
        }
        if (params_.record_logits && logits != nullptr) o.logits.assign(logits, logits + vocab);
        o.num_prompt_tokens = r.num_prompt_tokens;
        o.num_cached_tokens = std::max(0, r.num_cached_tokens);

        const bool is_stop = std::find(p.stop_token_ids.begin(), p.stop_token_ids.end(), s.token_id) != p.stop_token_ids.end();
        const bool is_eos = !p.ignore_eos && std::find(eos_token_ids_.begin(), eos_token_ids_.end(), s.token_id) != eos_token_ids_.end();
        if (is_stop || is_eos) {
            o.finish = finish_reason::stop;
        } else if (r.num_output_tokens() >= p.max_tokens || r.num_tokens() >= max_model_len_) {
            o.finish = finish_reason::length;
        }
        if (o.finish != finish_reason::none) finished.push_back(r.id);
        result.outputs.push_back(std::move(o));
    }
    for (int64_t id : finished) scheduler_.finish_request(id);
}

}  // namespace olm
