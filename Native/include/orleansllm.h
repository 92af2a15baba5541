// orleansllm.h: the one public C header of the OrleansLlm native engine.
//
// Conventions (shaped like llama.h):
// - opaque handles, created by *_init / *_load and released by the matching *_free;
// - *_default_params() returns a params struct by value;
// - every fallible call returns an int32_t status (ORLEANSLLM_OK == 0); on failure
//   orleansllm_last_error() returns a readable message for the calling thread;
// - no C++ types or exceptions cross this boundary.
#ifndef ORLEANSLLM_H
#define ORLEANSLLM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define ORLEANSLLM_API __declspec(dllexport)
#else
#define ORLEANSLLM_API __attribute__((visibility("default")))
#endif

// status codes
#define ORLEANSLLM_OK 0
#define ORLEANSLLM_ERR_INVALID_ARGUMENT 1  // a parameter or input is out of range
#define ORLEANSLLM_ERR_IO 2                // a file is missing or unreadable
#define ORLEANSLLM_ERR_FORMAT 3            // a file is malformed (config, safetensors header, tensor)
#define ORLEANSLLM_ERR_UNSUPPORTED 4       // architecture or option not supported
#define ORLEANSLLM_ERR_OUT_OF_MEMORY 5     // an allocation failed
#define ORLEANSLLM_ERR_CAPACITY 6          // request exceeds a configured limit (context, KV budget)
#define ORLEANSLLM_ERR_NOT_FOUND 7         // unknown request id or handle
#define ORLEANSLLM_ERR_INTERNAL 8          // a bug: an invariant did not hold

typedef struct orleansllm_model orleansllm_model;
typedef struct orleansllm_context orleansllm_context;

// Message of the last failed call on this thread; never NULL, "" when none.
// Thread-safe (thread-local storage).
ORLEANSLLM_API const char* orleansllm_last_error(void);

// Name of a status code ("ok", "invalid_argument", ...). Thread-safe.
ORLEANSLLM_API const char* orleansllm_status_name(int32_t status);

// SIMD level the CPU kernels dispatched to at load time ("avx2", "avx512", "avx512bf16").
ORLEANSLLM_API const char* orleansllm_cpu_features(void);

// ---------------------------------------------------------------------------------------------
// model

typedef struct orleansllm_model_params {
    int32_t n_threads;  // CPU threads for kernels, at most 256; 0 = all cores
} orleansllm_model_params;

typedef struct orleansllm_model_info {
    int32_t vocab_size;
    int32_t hidden_size;
    int32_t n_layers;
    int32_t n_heads;
    int32_t n_kv_heads;
    int32_t head_dim;
    int32_t max_position_embeddings;
    int32_t bos_token_id;          // -1 when the config names none
    int32_t eos_token_ids[8];      // the config's eos ids, -1 padded
    int32_t n_eos_token_ids;
    int32_t weight_dtype;          // 0 = f32, 1 = f16, 2 = bf16 (of the largest matrices)
    int64_t weight_bytes;          // bytes of weights read per decoded token (all matrices + lm head)
    int64_t kv_bytes_per_token;    // KV cache bytes one token occupies across all layers
} orleansllm_model_info;

ORLEANSLLM_API orleansllm_model_params orleansllm_model_default_params(void);

// Loads config.json and the *.safetensors of a Hugging Face model directory (memory-mapped).
// Returns ORLEANSLLM_ERR_IO / _FORMAT / _UNSUPPORTED with a message naming the file or tensor.
// Thread-safe; the model is immutable once loaded and may be shared by contexts and engines.
ORLEANSLLM_API int32_t orleansllm_model_load(const char* model_dir, orleansllm_model_params params,
                                             orleansllm_model** out_model);

// Frees a model; NULL is ignored. No context or engine may still use it.
ORLEANSLLM_API void orleansllm_model_free(orleansllm_model* model);

ORLEANSLLM_API int32_t orleansllm_model_get_info(const orleansllm_model* model,
                                                 orleansllm_model_info* out_info);

// ---------------------------------------------------------------------------------------------
// context: one sequence with a private KV cache (evaluation, golden tests, simple generation)

typedef struct orleansllm_context_params {
    int32_t n_ctx;      // maximum tokens held; 0 = the model's max_position_embeddings (capped at 8192)
    int32_t n_threads;  // reserved, must be 0: kernels run on the model's threads
} orleansllm_context_params;

ORLEANSLLM_API orleansllm_context_params orleansllm_context_default_params(void);

// Creates a context over `model` (which must outlive it).
ORLEANSLLM_API int32_t orleansllm_context_init(orleansllm_model* model,
                                               orleansllm_context_params params,
                                               orleansllm_context** out_context);

ORLEANSLLM_API void orleansllm_context_free(orleansllm_context* context);

// Appends `n_tokens` tokens to the sequence and computes them.
// logits_out: [n_tokens, vocab_size] when all_logits != 0, else [vocab_size] for the last token.
// Fails with ORLEANSLLM_ERR_CAPACITY when the sequence would exceed n_ctx (nothing is appended),
// ORLEANSLLM_ERR_INVALID_ARGUMENT for a token id outside the vocabulary.
// Not thread-safe: one call at a time per context.
ORLEANSLLM_API int32_t orleansllm_context_eval(orleansllm_context* context, const int32_t* tokens,
                                               int32_t n_tokens, int32_t all_logits,
                                               float* logits_out);

// Forgets the sequence (the KV cache is reused from position 0).
ORLEANSLLM_API int32_t orleansllm_context_reset(orleansllm_context* context);

// Number of tokens the context holds.
ORLEANSLLM_API int32_t orleansllm_context_n_tokens(const orleansllm_context* context);

#ifdef __cplusplus
}
#endif

#endif  // ORLEANSLLM_H
