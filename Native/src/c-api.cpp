// c-api.cpp: the model and context entry points of orleansllm.h. Every function converts
// exceptions into status codes through olm::guard.
#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

#include "c-api-handles.h"
#include "context.h"
#include "cpu/cpu-features.h"
#include "model.h"
#include "orleansllm.h"
#include "quant.h"
#include "read-bandwidth.h"
#include "status.h"

namespace {

constexpr int32_t kMaxThreads = 256;

void require(bool condition, const std::string& message) {
    if (!condition) throw olm::error(ORLEANSLLM_ERR_INVALID_ARGUMENT, message);
}

}  // namespace

extern "C" {

const char* orleansllm_cpu_features(void) { return olm::cpu_feature_level(); }

int32_t orleansllm_read_bandwidth_measure(int32_t n_threads, int64_t buffer_bytes, int32_t n_passes,
                                          orleansllm_read_bandwidth* out_result) {
    return olm::guard([&] {
        require(out_result != nullptr, "out_result must not be NULL");
        require(n_threads >= 0 && n_threads <= kMaxThreads, "n_threads must be in [0, 256]");
        require(buffer_bytes >= 0 && buffer_bytes <= (int64_t(1) << 40), "buffer_bytes must be in [0, 1 TiB]");
        require(n_passes >= 1 && n_passes <= 1000, "n_passes must be in [1, 1000]");
        int32_t threads = n_threads > 0 ? n_threads : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
        olm::read_bandwidth_result r = olm::measure_read_bandwidth(threads, buffer_bytes, n_passes);
        orleansllm_read_bandwidth out{};
        out.best_bytes_per_s = r.best_bytes_per_s;
        out.median_bytes_per_s = r.median_bytes_per_s;
        out.worst_bytes_per_s = r.worst_bytes_per_s;
        out.buffer_bytes = r.buffer_bytes;
        out.llc_bytes = r.llc_bytes;
        out.n_threads = r.n_threads;
        out.n_passes = r.n_passes;
        *out_result = out;
    });
}

orleansllm_model_params orleansllm_model_default_params(void) {
    orleansllm_model_params p;
    p.n_threads = 0;
    p.use_mmap = 0;
    p.weight_type = 0;
    p.kv_cache_dtype = 0;
    return p;
}

int32_t orleansllm_model_load(const char* path, orleansllm_model_params params, orleansllm_model** out_model) {
    return olm::guard([&] {
        require(path != nullptr && out_model != nullptr, "path and out_model must not be NULL");
        require(params.n_threads >= 0 && params.n_threads <= kMaxThreads, "n_threads must be in [0, 256]");
        require(params.use_mmap == 0 || params.use_mmap == 1, "use_mmap must be 0 or 1");
        require(params.weight_type == 0 || params.weight_type == ORLEANSLLM_DTYPE_Q8_0 || params.weight_type == ORLEANSLLM_DTYPE_Q4_0 ||
                    params.weight_type == ORLEANSLLM_WEIGHTS_Q4_K_M,
                "weight_type must be 0 (as stored), ORLEANSLLM_DTYPE_Q8_0, ORLEANSLLM_DTYPE_Q4_0 or ORLEANSLLM_WEIGHTS_Q4_K_M, not " +
                    std::to_string(params.weight_type));
        *out_model = nullptr;
        auto m = std::make_unique<orleansllm_model>();
        m->impl = olm::load_model(path, params.n_threads,
                                  params.use_mmap != 0 ? olm::weight_memory::mmap : olm::weight_memory::huge_pages,
                                  static_cast<olm::weight_scheme>(params.weight_type));
        m->impl->kv_cache_dtype = params.kv_cache_dtype;
        m->impl->kv_type();  // refuses an unsupported value now rather than at the first context
        *out_model = m.release();
    });
}

int64_t orleansllm_quantized_bytes(int32_t type, int64_t n_rows, int64_t n_cols) {
    if (type < ORLEANSLLM_DTYPE_F32 || type > ORLEANSLLM_DTYPE_Q6_K || n_rows < 0 || n_cols < 0) return -1;
    const auto t = static_cast<olm::dtype>(type);
    if (n_cols % olm::dtype_block_elements(t) != 0) return -1;
    return n_rows * olm::dtype_row_bytes(t, n_cols);
}

int32_t orleansllm_quantize(int32_t type, const float* x, int64_t n_rows, int64_t n_cols, void* out, int64_t out_bytes) {
    return olm::guard([&] {
        require(x != nullptr && out != nullptr, "x and out must not be NULL");
        require(type >= ORLEANSLLM_DTYPE_F32 && type <= ORLEANSLLM_DTYPE_Q6_K && olm::dtype_has_quantizer(static_cast<olm::dtype>(type)),
                "type must be ORLEANSLLM_DTYPE_Q8_0, _Q4_0, _Q5_0, _Q4_K or _Q6_K, not " + std::to_string(type));
        const int64_t block = olm::dtype_block_elements(static_cast<olm::dtype>(type));
        require(n_rows >= 0 && n_cols >= 0 && n_cols % block == 0,
                "n_cols must be a multiple of " + std::to_string(block) + " (got " + std::to_string(n_cols) + ")");
        const int64_t need = orleansllm_quantized_bytes(type, n_rows, n_cols);
        require(out_bytes >= need, "out_bytes " + std::to_string(out_bytes) + " is less than the " + std::to_string(need) + " needed");
        olm::quantize_row(static_cast<olm::dtype>(type), x, out, n_rows * n_cols);
    });
}

int32_t orleansllm_dequantize(int32_t type, const void* blocks, int64_t n_rows, int64_t n_cols, float* out) {
    return olm::guard([&] {
        require(blocks != nullptr && out != nullptr, "blocks and out must not be NULL");
        require(type >= ORLEANSLLM_DTYPE_Q8_0 && type <= ORLEANSLLM_DTYPE_Q6_K, "type must be a quantized ORLEANSLLM_DTYPE_*, not " + std::to_string(type));
        const auto t = static_cast<olm::dtype>(type);
        require(n_rows >= 0 && n_cols >= 0 && n_cols % olm::dtype_block_elements(t) == 0,
                "n_cols must be a multiple of " + std::to_string(olm::dtype_block_elements(t)) + " (got " + std::to_string(n_cols) + ")");
        olm::dequantize_row(t, blocks, out, n_rows * n_cols);
    });
}

int32_t orleansllm_q4_k_m_tensor_type(const char* gguf_name, int64_t n_cols, int32_t n_layers, int32_t tied_embeddings) {
    if (gguf_name == nullptr || n_cols <= 0 || n_layers <= 0) return -1;
    const olm::dtype t = olm::q4_k_m_type(gguf_name, n_layers, n_cols, tied_embeddings != 0);
    return t == olm::dtype::f16 ? 0 : static_cast<int32_t>(t);
}

void orleansllm_model_free(orleansllm_model* model) { delete model; }

int32_t orleansllm_model_get_info(const orleansllm_model* model, orleansllm_model_info* out_info) {
    return olm::guard([&] {
        require(model != nullptr && out_info != nullptr, "model and out_info must not be NULL");
        const olm::model& m = *model->impl;
        const olm::model_config& c = m.config;
        orleansllm_model_info info{};
        info.vocab_size = c.vocab_size;
        info.hidden_size = c.hidden_size;
        info.n_layers = c.n_layers;
        info.n_heads = c.n_heads;
        info.n_kv_heads = c.n_kv_heads;
        info.head_dim = c.head_dim;
        info.max_position_embeddings = c.max_position_embeddings;
        info.bos_token_id = c.bos_token_id;
        std::fill(std::begin(info.eos_token_ids), std::end(info.eos_token_ids), -1);
        info.n_eos_token_ids = static_cast<int32_t>(std::min<size_t>(8, c.eos_token_ids.size()));
        for (int32_t i = 0; i < info.n_eos_token_ids; ++i) info.eos_token_ids[i] = c.eos_token_ids[size_t(i)];
        info.weight_dtype = static_cast<int32_t>(m.layers.empty() ? m.embed.type : m.layers[0].q.type);
        info.weight_bytes = m.weight_bytes_per_token();
        info.kv_bytes_per_token = m.kv_bytes_per_token();
        *out_info = info;
    });
}

orleansllm_context_params orleansllm_context_default_params(void) {
    orleansllm_context_params p;
    p.n_ctx = 0;
    p.kv_cache_dtype = 0;
    return p;
}

int32_t orleansllm_context_init(orleansllm_model* model, orleansllm_context_params params, orleansllm_context** out_context) {
    return olm::guard([&] {
        require(model != nullptr && out_context != nullptr, "model and out_context must not be NULL");
        require(params.n_ctx >= 0, "n_ctx must be >= 0");
        *out_context = nullptr;
        olm::model& m = *model->impl;
        int32_t n_ctx = params.n_ctx > 0 ? params.n_ctx : std::min(m.config.max_position_embeddings, 8192);
        if (n_ctx > m.config.max_position_embeddings) {
            throw olm::error(ORLEANSLLM_ERR_CAPACITY, "n_ctx " + std::to_string(n_ctx) + " exceeds the model's max_position_embeddings " +
                                                         std::to_string(m.config.max_position_embeddings));
        }
        auto ctx = std::make_unique<orleansllm_context>();
        ctx->impl = std::make_unique<olm::context>(m, n_ctx, m.kv_type(params.kv_cache_dtype));
        *out_context = ctx.release();
    });
}

void orleansllm_context_free(orleansllm_context* context) { delete context; }

int32_t orleansllm_context_eval(orleansllm_context* context, const int32_t* tokens, int32_t n_tokens, int32_t all_logits,
                                float* logits_out) {
    return olm::guard([&] {
        require(context != nullptr, "context must not be NULL");
        olm::context_eval(*context->impl, tokens, n_tokens, all_logits != 0, logits_out);
    });
}

int32_t orleansllm_context_reset(orleansllm_context* context) {
    return olm::guard([&] {
        require(context != nullptr, "context must not be NULL");
        context->impl->n_tokens = 0;
    });
}

int32_t orleansllm_context_n_tokens(const orleansllm_context* context) { return context == nullptr ? 0 : context->impl->n_tokens; }

}  // extern "C"
