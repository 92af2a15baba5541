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
#define ORLEANSLLM_ERR_FORMAT 3            // a file is malformed (config, safetensors or GGUF header, tensor)
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
// read bandwidth: the roofline decode is compared with (one decoded token streams every weight)

typedef struct orleansllm_read_bandwidth {
    double best_bytes_per_s;    // the fastest pass
    double median_bytes_per_s;
    double worst_bytes_per_s;   // the slowest pass: (best - worst) / median is the probe's spread
    int64_t buffer_bytes;       // bytes read per pass
    int64_t llc_bytes;          // the last-level cache the buffer was sized against; 0 = unknown
    int32_t n_threads;
    int32_t n_passes;
} orleansllm_read_bandwidth;

// Measures the machine's sustained read bandwidth: `n_threads` threads (0 = all cores; the
// engine's thread pool) read a buffer of `buffer_bytes` (0 = max(1 GiB, 8 x the last-level cache))
// held like the weights (anonymous memory, transparent huge pages), `n_passes` times (1..1000)
// after one uncounted pass. Takes about n_passes x buffer_bytes / bandwidth seconds.
// INVALID_ARGUMENT for a count out of range, OUT_OF_MEMORY when the buffer cannot be mapped.
// Thread-safe (each call has its own buffer and threads).
ORLEANSLLM_API int32_t orleansllm_read_bandwidth_measure(int32_t n_threads, int64_t buffer_bytes, int32_t n_passes,
                                                         orleansllm_read_bandwidth* out_result);

// ---------------------------------------------------------------------------------------------
// model

typedef struct orleansllm_model_params {
    int32_t n_threads;  // CPU threads for kernels, at most 256; 0 = all cores
    // 0 (default): the weights are read once into anonymous memory backed by transparent huge
    // pages (far fewer TLB misses while decode streams every weight: faster decode).
    // 1: the weights stay in a read-only memory map of the files (nothing copied, page cache
    // shared between processes, faster start). Any other value is ORLEANSLLM_ERR_INVALID_ARGUMENT.
    int32_t use_mmap;
    // 0 (default): the weights as stored. ORLEANSLLM_DTYPE_Q8_0 / ORLEANSLLM_DTYPE_Q4_0: every
    // matrix whose rows are whole 32-element blocks is quantized at load (docs/QUANTIZATION.md;
    // already quantized GGUF tensors stay as they are). ORLEANSLLM_WEIGHTS_Q4_K_M: each matrix to
    // its type in llama.cpp's Q4_K_M mixture (orleansllm_q4_k_m_tensor_type). Any other value is
    // INVALID_ARGUMENT.
    int32_t weight_type;
    // KV cache element type of the contexts and engines over this model that name none (their
    // kv_cache_dtype 0): 0 (default) = BF16 for BF16 and quantized weights, F32 for F32 and F16
    // ones; ORLEANSLLM_DTYPE_BF16; ORLEANSLLM_DTYPE_KV_INT8. Anything else: ORLEANSLLM_ERR_UNSUPPORTED.
    // orleansllm_model_info.kv_bytes_per_token follows it.
    int32_t kv_cache_dtype;
} orleansllm_model_params;

// Weight element types: orleansllm_model_info.weight_dtype, orleansllm_model_params.weight_type.
#define ORLEANSLLM_DTYPE_F32 0
#define ORLEANSLLM_DTYPE_F16 1
#define ORLEANSLLM_DTYPE_BF16 2
#define ORLEANSLLM_DTYPE_Q8_0 3  // GGUF Q8_0: blocks of 32, fp16 scale + 32 int8 (34 bytes)
#define ORLEANSLLM_DTYPE_Q4_0 4  // GGUF Q4_0: blocks of 32, fp16 scale + 16 bytes of nibbles (18 bytes)
// The types of llama.cpp's Q4_K_M files (GGUF layouts, docs/QUANTIZATION.md); orleansllm_quantize
// writes all but Q5_1 (read from GGUF files only).
#define ORLEANSLLM_DTYPE_Q5_0 5
#define ORLEANSLLM_DTYPE_Q5_1 6
#define ORLEANSLLM_DTYPE_Q4_K 7
#define ORLEANSLLM_DTYPE_Q6_K 8
// KV cache only (kv_cache_dtype): per (token, KV head) head_dim int8 values and a float32 scale
// (amax / 127): head_dim + 4 bytes instead of BF16's 2 x head_dim (docs/QUANTIZATION.md).
#define ORLEANSLLM_DTYPE_KV_INT8 9
// orleansllm_model_params.weight_type only: llama.cpp's Q4_K_M mixture (its llama_ftype number),
// a type per matrix rather than one dtype.
#define ORLEANSLLM_WEIGHTS_Q4_K_M 15

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
    int32_t weight_dtype;          // ORLEANSLLM_DTYPE_* of the first layer's attn_q (0 f32, 1 f16, 2 bf16, 3 q8_0, 4 q4_0, 5 q5_0, 6 q5_1, 7 q4_k, 8 q6_k)
    int64_t weight_bytes;          // bytes of weights read per decoded token (all matrices + lm head)
    int64_t kv_bytes_per_token;    // KV cache bytes one token occupies across all layers (of the model's kv_cache_dtype)
} orleansllm_model_info;

ORLEANSLLM_API orleansllm_model_params orleansllm_model_default_params(void);

// Loads a model from `path`: a GGUF file (docs/GGUF.md; F32, F16 and BF16 tensors) when `path` is
// not a directory and ends in ".gguf" or begins with the bytes "GGUF", else a Hugging Face model
// directory (config.json and its *.safetensors).
// Returns ORLEANSLLM_ERR_IO / _FORMAT / _UNSUPPORTED with a message naming the file, tensor or
// metadata key. Thread-safe; the model is immutable once loaded and may be shared by contexts and
// engines.
ORLEANSLLM_API int32_t orleansllm_model_load(const char* path, orleansllm_model_params params,
                                             orleansllm_model** out_model);

// Frees a model; NULL is ignored. No context or engine may still use it.
ORLEANSLLM_API void orleansllm_model_free(orleansllm_model* model);

ORLEANSLLM_API int32_t orleansllm_model_get_info(const orleansllm_model* model,
                                                 orleansllm_model_info* out_info);

// The engine's quantizer (the one model loading uses), for converters: quantizes `n_rows` rows of
// `n_cols` floats (`x`, row-major) to `type` (ORLEANSLLM_DTYPE_Q8_0, _Q4_0, _Q5_0, _Q4_K or _Q6_K)
// into `out`, which holds `out_bytes` bytes. Output is GGUF's block layout, following the rules of
// llama.cpp's reference quantizer (Q8_0 / Q4_0 bit for bit). INVALID_ARGUMENT when the type has no
// quantizer, n_cols is not a multiple of its block (32; 256 for the K types), or out_bytes is less
// than orleansllm_quantized_bytes(type, n_rows, n_cols). Thread-safe.
ORLEANSLLM_API int32_t orleansllm_quantize(int32_t type, const float* x, int64_t n_rows, int64_t n_cols, void* out,
                                           int64_t out_bytes);

// Decodes `n_rows` rows of `n_cols` elements of quantized `type` (any ORLEANSLLM_DTYPE_Q*, GGUF's
// layout) from `blocks` into `out` (n_rows × n_cols floats), for tests and tools that measure
// quantization error. INVALID_ARGUMENT when the type is not quantized or n_cols is not whole blocks.
ORLEANSLLM_API int32_t orleansllm_dequantize(int32_t type, const void* blocks, int64_t n_rows, int64_t n_cols, float* out);

// The type llama.cpp's Q4_K_M mixture gives the GGUF tensor `gguf_name` (a matrix with rows of
// `n_cols` elements, in a model of `n_layers` layers whose LM head is the embedding when
// `tied_embeddings` is nonzero): an ORLEANSLLM_DTYPE_* (Q4_K, Q6_K, or the fallbacks Q5_0 / Q8_0
// for rows that are not whole 256-blocks), 0 for "keep as stored" (rows not whole 32-blocks),
// -1 for a NULL name or a count that is not positive. docs/QUANTIZATION.md states the rule.
ORLEANSLLM_API int32_t orleansllm_q4_k_m_tensor_type(const char* gguf_name, int64_t n_cols, int32_t n_layers,
                                                     int32_t tied_embeddings);

// Bytes that n_rows × n_cols elements of `type` take; -1 when `type` is unknown or n_cols is not
// a multiple of its block.
ORLEANSLLM_API int64_t orleansllm_quantized_bytes(int32_t type, int64_t n_rows, int64_t n_cols);

// ---------------------------------------------------------------------------------------------
// context: one sequence with a private KV cache (evaluation, golden tests, simple generation)

// Kernels run on the model's threads (orleansllm_model_params.n_threads).
typedef struct orleansllm_context_params {
    int32_t n_ctx;  // maximum tokens held; 0 = the model's max_position_embeddings (capped at 8192)
    int32_t kv_cache_dtype;  // 0 = the model's (orleansllm_model_params.kv_cache_dtype), or as there
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

// ---------------------------------------------------------------------------------------------
// engine: continuous batching over a paged KV cache with automatic prefix caching.
// Driven by add_request / step / abort; each step returns the tokens produced for each running
// request and the KV events (blocks stored / removed / all cleared) since the previous step.

typedef struct orleansllm_engine orleansllm_engine;

// finish reasons
#define ORLEANSLLM_FINISH_NONE 0    // still running
#define ORLEANSLLM_FINISH_STOP 1    // a stop token or an eos id was sampled (it is the last new token)
#define ORLEANSLLM_FINISH_LENGTH 2  // max_tokens or the context limit reached
#define ORLEANSLLM_FINISH_ABORT 3   // orleansllm_engine_abort

// KV event kinds (vLLM's meaning)
#define ORLEANSLLM_KV_BLOCK_STORED 0        // blocks now findable by hash (a chain, in order)
#define ORLEANSLLM_KV_BLOCK_REMOVED 1       // blocks evicted
#define ORLEANSLLM_KV_ALL_BLOCKS_CLEARED 2  // every cached block forgotten

// Block hash: 16 bytes, hash[0] = H(salt ‖ tokens[0..B)), hash[i] = H(hash[i-1] ‖ tokens[iB..(i+1)B)),
// tokens little-endian int32, H = first 16 bytes of SHA-256 (DESIGN.md §3).
#define ORLEANSLLM_BLOCK_HASH_BYTES 16
#define ORLEANSLLM_MAX_TOP_LOGPROBS 20

// backends
#define ORLEANSLLM_BACKEND_CPU 0
#define ORLEANSLLM_BACKEND_CUDA 1  // needs liborleansllm-cuda.so beside this library and a CUDA device

typedef struct orleansllm_engine_params {
    int32_t block_size_tokens;      // tokens per KV block; default 16
    int32_t max_batched_tokens;     // tokens computed per step, all requests together; default 512
    int64_t kv_cache_bytes;         // K/V memory budget (decides the number of blocks); default 1 GiB
    int32_t max_running_requests;   // default 32
    int32_t max_model_len;          // prompt + output tokens per request; 0 = the model's limit
    int32_t n_threads;              // 0 = the model's thread pool
    int32_t enable_prefix_caching;  // default 1
    int32_t backend;                // ORLEANSLLM_BACKEND_CPU (default) or ORLEANSLLM_BACKEND_CUDA
    int32_t device_index;           // cuda: which device; default 0
    float gpu_memory_fraction;      // cuda: (0, 1], share of the device's memory for weights, workspace
                                    // and K/V blocks (kv_cache_bytes caps the K/V too); default 0.9
    // KV cache element type: 0 (default) = the model's (orleansllm_model_params.kv_cache_dtype),
    // ORLEANSLLM_DTYPE_BF16 or ORLEANSLLM_DTYPE_KV_INT8 (CPU backend only: the cuda backend refuses
    // it with UNSUPPORTED). The block count is kv_cache_bytes over the bytes of a block of this type,
    // so INT8 holds about twice the tokens of BF16 in the same budget.
    int32_t kv_cache_dtype;
} orleansllm_engine_params;

typedef struct orleansllm_sampling_params {
    float temperature;               // 0 = greedy; default 1
    int32_t top_k;                   // 0 = off
    float top_p;                     // (0, 1]; default 1
    float min_p;                     // [0, 1]; default 0
    float repetition_penalty;        // > 0; 1 = off
    float frequency_penalty;         // [-2, 2]
    float presence_penalty;          // [-2, 2]
    int32_t max_tokens;              // > 0; default 16
    int64_t seed;                    // >= 0: reproducible whatever else is batched; -1 = random (default)
    const int32_t* stop_token_ids;   // [n_stop_token_ids], copied by add_request; may be NULL when 0
    int32_t n_stop_token_ids;
    int32_t ignore_eos;              // 0: the model's eos ids stop generation (default)
    int32_t logprobs;                // 1: report each new token's log-probability
    int32_t top_logprobs;            // 0..20 most likely tokens per new token (needs logprobs)
} orleansllm_sampling_params;

typedef struct orleansllm_token_logprob {
    int32_t token_id;
    float logprob;  // log-softmax of the model's raw logits (before penalties and temperature)
} orleansllm_token_logprob;

typedef struct orleansllm_request_output {
    int64_t request_id;
    const int32_t* new_token_ids;                  // [n_new_tokens]
    const float* logprobs;                         // [n_new_tokens]; NULL unless logprobs was set
    const orleansllm_token_logprob* top_logprobs;  // [n_new_tokens * n_top_logprobs]; NULL when 0
    int32_t n_new_tokens;
    int32_t n_top_logprobs;
    int32_t finish_reason;       // ORLEANSLLM_FINISH_*; the request is gone once not NONE
    int32_t num_prompt_tokens;
    int32_t num_cached_tokens;   // prompt tokens served by the prefix cache
    int32_t reserved;
} orleansllm_request_output;

typedef struct orleansllm_kv_event {
    int32_t kind;                                      // ORLEANSLLM_KV_*
    int32_t n_hashes;
    const uint8_t* hashes;                             // [n_hashes * ORLEANSLLM_BLOCK_HASH_BYTES]
    uint8_t parent_hash[ORLEANSLLM_BLOCK_HASH_BYTES];  // stored: the block before hashes[0]
    int32_t has_parent;                                // stored: 0 when hashes[0] is a block 0
    int32_t reserved;
} orleansllm_kv_event;

// Everything points into engine-owned memory, valid until the next step or engine_free.
typedef struct orleansllm_step_output {
    const orleansllm_request_output* outputs;  // [n_outputs]: requests that got tokens or finished
    const orleansllm_kv_event* kv_events;      // [n_kv_events], oldest first
    int32_t n_outputs;
    int32_t n_kv_events;
    int32_t n_scheduled_tokens;
    int32_t n_scheduled_requests;
} orleansllm_step_output;

typedef struct orleansllm_engine_stats {
    int32_t n_blocks_total;
    int32_t n_blocks_used;        // referenced by a request
    int32_t n_blocks_cached;      // holding a hash (used or evictable)
    int32_t n_running;
    int32_t n_waiting;
    int32_t block_size_tokens;
    int64_t prefix_query_tokens;  // prompt tokens looked up at admission
    int64_t prefix_hit_tokens;    // of which found cached
    int64_t n_preemptions;
    int64_t kv_slots_allocated;   // used blocks × block size, after the last step
    int64_t kv_tokens_stored;     // tokens whose K/V those blocks hold
    int64_t n_steps;
    int64_t n_generated_tokens;
    int32_t max_model_len;
    int32_t reserved;
} orleansllm_engine_stats;

ORLEANSLLM_API orleansllm_engine_params orleansllm_engine_default_params(void);
ORLEANSLLM_API orleansllm_sampling_params orleansllm_sampling_default_params(void);

// Creates an engine over `model`, which must outlive it. Fails with INVALID_ARGUMENT for a bad
// parameter, CAPACITY when kv_cache_bytes is below one block or max_model_len exceeds the model's.
// backend CUDA: UNSUPPORTED with "built without CUDA", "cannot load liborleansllm-cuda.so (...)",
// "no CUDA device" or a model shape the kernels do not take; OUT_OF_MEMORY when the weights do not
// fit the device.
// Thread-safe.
ORLEANSLLM_API int32_t orleansllm_engine_init(orleansllm_model* model, orleansllm_engine_params params,
                                              orleansllm_engine** out_engine);

// Frees an engine; NULL is ignored. No other call on it may be running.
ORLEANSLLM_API void orleansllm_engine_free(orleansllm_engine* engine);

// Queues a request and returns its id (> 0). `sampling` NULL = defaults. `salt` (n_salt bytes,
// may be NULL when 0) is mixed into the prefix hash: requests share cached blocks only with the
// same salt. Smaller `priority` runs first and is preempted last (0 = normal).
// INVALID_ARGUMENT: empty prompt, a token outside the vocabulary, a bad sampling parameter;
// CAPACITY: the prompt leaves no room for output within max_model_len.
// Thread-safe (may run while another thread is in orleansllm_engine_step).
ORLEANSLLM_API int32_t orleansllm_engine_add_request(orleansllm_engine* engine, const int32_t* prompt,
                                                     int32_t n_prompt, const orleansllm_sampling_params* sampling,
                                                     const uint8_t* salt, int32_t n_salt, int32_t priority,
                                                     int64_t* out_request_id);

// Aborts a request at any point; the next step reports it with ORLEANSLLM_FINISH_ABORT and
// frees its blocks. NOT_FOUND when the id is unknown or its finish was already reported.
// Thread-safe.
ORLEANSLLM_API int32_t orleansllm_engine_abort(orleansllm_engine* engine, int64_t request_id);

// Runs one iteration (schedule, forward, sample) and fills `out` (see orleansllm_step_output).
// With nothing to do it returns at once with no outputs. Not reentrant: one thread steps.
ORLEANSLLM_API int32_t orleansllm_engine_step(orleansllm_engine* engine, orleansllm_step_output* out);

// 1 while some added request has not been reported finished, else 0. Thread-safe.
ORLEANSLLM_API int32_t orleansllm_engine_has_unfinished(const orleansllm_engine* engine);

// Counters as of the last step. Thread-safe.
ORLEANSLLM_API int32_t orleansllm_engine_get_stats(const orleansllm_engine* engine,
                                                   orleansllm_engine_stats* out_stats);

#ifdef __cplusplus
}
#endif

#endif  // ORLEANSLLM_H
