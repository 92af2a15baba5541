// cuda-backend.cpp: the CUDA backend of backend.h. Weights live on the device in BF16 (Q/K/V and
// gate/up fused into one matrix each), the residual stream in float32, K/V blocks in BF16 sized
// by gpu_memory_fraction after weights and workspace. Per layer: RMSNorm(+residual) → QKV GEMM →
// bias / qk-norm → RoPE → K/V write → paged attention → O GEMM → RMSNorm(+residual) → gate/up
// GEMM → SiLU·mul → down GEMM; the final norm and LM head run on the logits rows only, which are
// copied back for the serving core's sampler.
#include <immintrin.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "backend.h"
#include "cpu/ops.h"
#include "cuda/cuda-backend.h"
#include "cuda/cuda-check.h"
#include "cuda/gemm.h"
#include "cuda/ops.h"
#include "model.h"
#include "status.h"

namespace olm {

namespace {

using cuda::check;

// Every device allocation of the backend, freed together.
class device_arena {
public:
    device_arena() = default;
    device_arena(const device_arena&) = delete;
    device_arena& operator=(const device_arena&) = delete;
    ~device_arena() {
        for (void* p : blocks_) cudaFree(p);
    }

    template <class T>
    T* alloc(int64_t count, const char* what) {
        void* p = nullptr;
        const size_t bytes = size_t(std::max<int64_t>(count, 1)) * sizeof(T);
        const cudaError_t e = cudaMalloc(&p, bytes);
        if (e != cudaSuccess) {
            cudaGetLastError();  // clear the sticky-free allocation error
            throw error(ORLEANSLLM_ERR_OUT_OF_MEMORY, std::string("CUDA: cannot allocate ") + std::to_string(bytes) +
                                                          " bytes for " + what + ": " + cudaGetErrorString(e));
        }
        blocks_.push_back(p);
        bytes_ += int64_t(bytes);
        return static_cast<T*>(p);
    }
    int64_t bytes() const { return bytes_; }

private:
    std::vector<void*> blocks_;
    int64_t bytes_ = 0;
};

// Host BF16 copy of a matrix of any stored dtype (BF16 is copied as is).
void append_bf16(const matrix& w, std::vector<uint16_t>& out) {
    const int64_t n = w.rows * w.cols;
    const size_t at = out.size();
    out.resize(at + size_t(n));
    uint16_t* dst = out.data() + at;
    switch (w.type) {
        case dtype::bf16:
            std::memcpy(dst, w.data, size_t(n) * 2);
            break;
        case dtype::f16: {
            const uint16_t* src = static_cast<const uint16_t*>(w.data);
            for (int64_t i = 0; i < n; ++i) dst[i] = to_bf16(_cvtsh_ss(src[i]));
            break;
        }
        case dtype::f32: {
            const float* src = static_cast<const float*>(w.data);
            for (int64_t i = 0; i < n; ++i) dst[i] = to_bf16(src[i]);
            break;
        }
        default:
            // quantized weights are refused by name before the backend is made (engine.cpp)
            assert(!"append_bf16: a quantized matrix reached the upload");
            break;
    }
}

struct device_layer {
    uint16_t* qkv = nullptr;      // [q_dim + 2 kv_dim, hidden]: q rows, then k, then v
    uint16_t* o = nullptr;        // [hidden, q_dim]
    uint16_t* gate_up = nullptr;  // [2 inter, hidden]: gate rows, then up
    uint16_t* down = nullptr;     // [hidden, inter]
    float* attn_norm = nullptr;   // [hidden]
    float* mlp_norm = nullptr;    // [hidden]
    float* qkv_bias = nullptr;    // [q_dim + 2 kv_dim] or null
    float* o_bias = nullptr;      // [hidden] or null
    float* q_norm = nullptr;      // [head_dim] or null (qwen3)
    float* k_norm = nullptr;      // [head_dim] or null
};

class cuda_backend final : public forward_backend {
public:
    cuda_backend(const model& m, const cuda_backend_params& p);
    ~cuda_backend() override;

    const char* name() const override { return "cuda"; }
    int64_t kv_bytes_per_block(int32_t block_size_tokens) const override {
        // K and V, every layer, BF16.
        return int64_t(2) * config_.n_layers * block_size_tokens * kv_dim_ * 2;
    }
    int64_t max_kv_blocks(int32_t block_size_tokens, int64_t kv_cache_bytes) const override;
    void allocate_kv(int32_t n_blocks, int32_t block_size_tokens) override;
    void forward(const batch_view& batch, float* logits) override;
    bool forward_greedy(const batch_view& batch, int32_t* tokens) override;

private:
    // Everything but the download: the logits of b's rows end in logits_. False for an empty batch.
    bool compute(const batch_view& b);
    uint16_t* upload_bf16(const std::vector<const matrix*>& parts, const char* what);
    float* upload_floats(const std::vector<const std::vector<float>*>& parts, const char* what);
    // Copies the batch's metadata to the device (one transfer) and fills step_.
    void upload_batch(const batch_view& b);
    // Enqueues the whole model over step_ (n tokens, n_logits logits rows into logits_).
    void run_model(int32_t n, int32_t n_logits, int32_t n_splits);
    // A pure decode batch (one token and one logits row per sequence) of at most the largest
    // graph size: replays (capturing on first use) the CUDA graph of the next size up. False
    // when the batch does not qualify; then forward() runs eagerly.
    bool forward_with_graph(const batch_view& b);

    const model_config config_;
    const cuda_backend_params params_;
    const int64_t q_dim_, kv_dim_, qkv_dim_;
    int32_t n_sms_ = 0;
    int32_t block_size_ = 0;
    cudaStream_t stream_ = nullptr;
    cublasHandle_t cublas_ = nullptr;
    device_arena arena_;

    // weights
    uint16_t* embed_ = nullptr;    // [vocab, hidden]
    uint16_t* lm_head_ = nullptr;  // [vocab, hidden] (embed_ when tied)
    float* final_norm_ = nullptr;  // [hidden]
    float* inv_freq_ = nullptr;    // [head_dim / 2]
    std::vector<device_layer> layers_;

    // workspace for max_batched_tokens tokens
    float* x_ = nullptr;           // [T, hidden] residual stream
    float* delta_ = nullptr;       // [T, hidden] output of O / down, added by the next norm
    uint16_t* h_ = nullptr;        // [T, hidden] normed, GEMM input
    float* qkv_ = nullptr;         // [T, qkv_dim]
    uint16_t* attn_ = nullptr;     // [T, q_dim]
    float* gate_up_ = nullptr;     // [T, 2 inter]
    uint16_t* act_ = nullptr;      // [T, inter]
    float* logits_ = nullptr;      // [max_logits_rows_, vocab]
    int32_t* greedy_tokens_ = nullptr;  // [max_logits_rows_]
    int32_t max_logits_rows_ = 0;
    float* split_ws_ = nullptr;    // split-K partials
    int64_t split_ws_floats_ = 0;
    void* cublas_ws_ = nullptr;

    // K/V: per layer [n_blocks * block_size, kv_dim] bf16, K and V
    std::vector<uint16_t*> k_cache_, v_cache_;

    // batch metadata: host staging (pinned) and its device copy, grown on demand
    int32_t* meta_host_ = nullptr;
    int32_t* meta_dev_ = nullptr;
    int64_t meta_capacity_ = 0;    // int32 words
    std::vector<int32_t> tiles_host_;
    // The device metadata run_model reads: the eager upload's, or a graph's fixed buffers.
    struct step_pointers {
        const int64_t* slots = nullptr;       // [n]
        const int32_t* token_ids = nullptr;   // [n]
        const int32_t* positions = nullptr;   // [n]
        const int32_t* logits_rows = nullptr; // [n_logits]
        cuda::attention_batch attn;
    };
    step_pointers step_;

    // CUDA graphs of decode steps, one per batch size in kGraphSizes up to the workspace's.
    // Their metadata lives at fixed addresses: graph_meta_dev_ (device) filled from
    // graph_meta_host_ (pinned), laid out by graph_layout().
    struct graph_layout {
        int64_t slots, token_ids, positions, query_start, context_lens, block_indptr, tiles, logits_rows, block_indices;
        int64_t words;  // with block capacity
    };
    graph_layout layout_for(int32_t size) const;
    static constexpr int32_t kGraphSizes[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    static constexpr int32_t kGraphBlocksPerSeq = 1024;  // block-table capacity per sequence; longer → eager
    int32_t max_graph_size_ = 0;
    int32_t* graph_meta_host_ = nullptr;
    int32_t* graph_meta_dev_ = nullptr;
    std::vector<cudaGraphExec_t> graphs_;  // [index in kGraphSizes], null until captured
    std::vector<int32_t> graph_splits_;
};

cuda_backend::cuda_backend(const model& m, const cuda_backend_params& p)
    : config_(m.config), params_(p), q_dim_(int64_t(m.config.n_heads) * m.config.head_dim),
      kv_dim_(int64_t(m.config.n_kv_heads) * m.config.head_dim), qkv_dim_(q_dim_ + 2 * kv_dim_) {
    const model_config& c = config_;
    if (!(p.gpu_memory_fraction > 0.0f && p.gpu_memory_fraction <= 1.0f)) {
        throw error(ORLEANSLLM_ERR_INVALID_ARGUMENT, "gpu_memory_fraction must be in (0, 1]");
    }
    if (p.max_batched_tokens < 1) throw error(ORLEANSLLM_ERR_INVALID_ARGUMENT, "max_batched_tokens must be >= 1");
    // The block size is checked again in allocate_kv; 16 stands for "some supported size" here.
    if (!cuda::paged_attention_supports(c.n_heads, c.n_kv_heads, c.head_dim, 16)) {
        throw error(ORLEANSLLM_ERR_UNSUPPORTED,
                    "backend cuda supports head_dim 64 or 128 with GQA groups up to 8; this model has head_dim " +
                        std::to_string(c.head_dim) + ", " + std::to_string(c.n_heads) + " heads over " +
                        std::to_string(c.n_kv_heads) + " KV heads");
    }
    check(cudaSetDevice(p.device_index), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, p.device_index), "cudaGetDeviceProperties");
    n_sms_ = prop.multiProcessorCount;
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cublasCreate(&cublas_), "cublasCreate");
    check(cublasSetStream(cublas_, stream_), "cublasSetStream");
    // A fixed cuBLAS workspace: nothing allocated behind the memory plan's back, and graph capture safe.
    constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;
    cublas_ws_ = arena_.alloc<uint8_t>(int64_t(kCublasWorkspaceBytes), "the cuBLAS workspace");
    check(cublasSetWorkspace(cublas_, cublas_ws_, kCublasWorkspaceBytes), "cublasSetWorkspace");

    embed_ = upload_bf16({&m.embed}, "the embedding");
    lm_head_ = c.tie_word_embeddings && m.lm_head.data == m.embed.data ? embed_ : upload_bf16({&m.lm_head}, "the LM head");
    final_norm_ = upload_floats({&m.final_norm}, "the final norm");
    inv_freq_ = upload_floats({&m.rope_inv_freq}, "the RoPE frequencies");
    for (const layer_weights& L : m.layers) {
        device_layer d;
        d.qkv = upload_bf16({&L.q, &L.k, &L.v}, "a QKV matrix");
        d.o = upload_bf16({&L.o}, "an O matrix");
        d.gate_up = upload_bf16({&L.gate, &L.up}, "a gate/up matrix");
        d.down = upload_bf16({&L.down}, "a down matrix");
        d.attn_norm = upload_floats({&L.attn_norm}, "a norm");
        d.mlp_norm = upload_floats({&L.mlp_norm}, "a norm");
        if (!L.q_bias.empty()) d.qkv_bias = upload_floats({&L.q_bias, &L.k_bias, &L.v_bias}, "QKV biases");
        if (!L.o_bias.empty()) d.o_bias = upload_floats({&L.o_bias}, "an O bias");
        if (c.qk_norm) {
            d.q_norm = upload_floats({&L.q_norm}, "a q norm");
            d.k_norm = upload_floats({&L.k_norm}, "a k norm");
        }
        layers_.push_back(d);
    }

    const int64_t T = p.max_batched_tokens;
    x_ = arena_.alloc<float>(T * c.hidden_size, "the workspace");
    delta_ = arena_.alloc<float>(T * c.hidden_size, "the workspace");
    h_ = arena_.alloc<uint16_t>(T * c.hidden_size, "the workspace");
    qkv_ = arena_.alloc<float>(T * qkv_dim_, "the workspace");
    attn_ = arena_.alloc<uint16_t>(T * q_dim_, "the workspace");
    gate_up_ = arena_.alloc<float>(T * 2 * int64_t(c.intermediate_size), "the workspace");
    act_ = arena_.alloc<uint16_t>(T * c.intermediate_size, "the workspace");
    max_logits_rows_ = p.max_logits_rows > 0 ? std::min(p.max_logits_rows, p.max_batched_tokens) : p.max_batched_tokens;
    logits_ = arena_.alloc<float>(int64_t(max_logits_rows_) * c.vocab_size, "the logits");
    greedy_tokens_ = arena_.alloc<int32_t>(max_logits_rows_, "the greedy tokens");
    // Splits serve batches too small to fill the device: 256 tokens x 16 splits is plenty.
    split_ws_floats_ = cuda::paged_attention_workspace_floats(int32_t(std::min<int64_t>(T, 256)), c.n_heads, c.head_dim, 16);
    split_ws_ = arena_.alloc<float>(split_ws_floats_, "the split-K workspace");
    // ORLEANSLLM_CUDA_GRAPHS=0 turns the graphs off without a rebuild (bench-cuda measures both).
    const char* graphs_env = std::getenv("ORLEANSLLM_CUDA_GRAPHS");
    const bool graphs_on = p.use_cuda_graphs && !(graphs_env != nullptr && std::string(graphs_env) == "0");
    if (graphs_on) {
        for (int32_t size : kGraphSizes) {
            if (size <= p.max_batched_tokens && size <= max_logits_rows_) max_graph_size_ = size;
        }
    }
    if (max_graph_size_ > 0) {
        const graph_layout g = layout_for(max_graph_size_);
        void* pinned = nullptr;
        check(cudaMallocHost(&pinned, size_t(g.words) * 4), "cudaMallocHost (graph metadata)");
        graph_meta_host_ = static_cast<int32_t*>(pinned);
        graph_meta_dev_ = arena_.alloc<int32_t>(g.words, "the graph metadata");
        graphs_.assign(std::size(kGraphSizes), nullptr);
        graph_splits_.assign(std::size(kGraphSizes), 1);
    }
    check(cudaStreamSynchronize(stream_), "weight upload");
}

cuda_backend::~cuda_backend() {
    if (stream_ != nullptr) cudaStreamSynchronize(stream_);
    if (meta_host_ != nullptr) cudaFreeHost(meta_host_);
    if (graph_meta_host_ != nullptr) cudaFreeHost(graph_meta_host_);
    for (cudaGraphExec_t g : graphs_) {
        if (g != nullptr) cudaGraphExecDestroy(g);
    }
    if (cublas_ != nullptr) cublasDestroy(cublas_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

uint16_t* cuda_backend::upload_bf16(const std::vector<const matrix*>& parts, const char* what) {
    std::vector<uint16_t> host;
    int64_t n = 0;
    for (const matrix* w : parts) n += w->rows * w->cols;
    host.reserve(size_t(n));
    for (const matrix* w : parts) append_bf16(*w, host);
    uint16_t* dev = arena_.alloc<uint16_t>(n, what);
    check(cudaMemcpy(dev, host.data(), size_t(n) * 2, cudaMemcpyHostToDevice), what);
    return dev;
}

float* cuda_backend::upload_floats(const std::vector<const std::vector<float>*>& parts, const char* what) {
    std::vector<float> host;
    for (const std::vector<float>* v : parts) host.insert(host.end(), v->begin(), v->end());
    float* dev = arena_.alloc<float>(int64_t(host.size()), what);
    check(cudaMemcpy(dev, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice), what);
    return dev;
}

int64_t cuda_backend::max_kv_blocks(int32_t block_size_tokens, int64_t kv_cache_bytes) const {
    check(cudaSetDevice(params_.device_index), "cudaSetDevice");
    size_t free_bytes = 0, total_bytes = 0;
    check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    // What this process (and any other) already holds counts against the fraction.
    const int64_t used = int64_t(total_bytes) - int64_t(free_bytes);
    const int64_t budget = int64_t(double(params_.gpu_memory_fraction) * double(total_bytes)) - used;
    const int64_t bytes = std::min<int64_t>(budget, kv_cache_bytes);
    return bytes <= 0 ? 0 : bytes / kv_bytes_per_block(block_size_tokens);
}

void cuda_backend::allocate_kv(int32_t n_blocks, int32_t block_size_tokens) {
    if (!cuda::paged_attention_supports(config_.n_heads, config_.n_kv_heads, config_.head_dim, block_size_tokens)) {
        throw error(ORLEANSLLM_ERR_UNSUPPORTED, "backend cuda supports block sizes 8, 16, 32, 64 and 128 tokens, not " +
                                                    std::to_string(block_size_tokens));
    }
    check(cudaSetDevice(params_.device_index), "cudaSetDevice");
    block_size_ = block_size_tokens;
    const int64_t elems = int64_t(n_blocks) * block_size_tokens * kv_dim_;
    for (int32_t l = 0; l < config_.n_layers; ++l) {
        k_cache_.push_back(arena_.alloc<uint16_t>(elems, "the K cache"));
        v_cache_.push_back(arena_.alloc<uint16_t>(elems, "the V cache"));
    }
}

void cuda_backend::upload_batch(const batch_view& b) {
    const int32_t tile_tokens = cuda::attention_tile_tokens(config_.n_heads, config_.n_kv_heads);
    tiles_host_.resize(size_t(3) * size_t(b.n_seqs + b.n_tokens / tile_tokens + 1));
    const int32_t n_tiles = cuda::attention_tiles(b.query_start, b.n_seqs, tile_tokens, tiles_host_.data());
    const int32_t n_blocks = b.block_indptr[b.n_seqs];

    // One int32 array: slots (int64, first, so they stay 8-byte aligned), token ids, positions,
    // query_start, context_lens, block_indptr, block_indices, tiles, logits_rows.
    const int64_t words = int64_t(2) * b.n_tokens + 2 * int64_t(b.n_tokens) + 3 * int64_t(b.n_seqs) + 2 + n_blocks +
                          3 * int64_t(n_tiles) + b.n_logits;
    if (words > meta_capacity_) {
        if (meta_host_ != nullptr) cudaFreeHost(meta_host_);
        meta_host_ = nullptr;
        const int64_t capacity = std::max<int64_t>(words * 2, 4096);
        void* pinned = nullptr;
        check(cudaMallocHost(&pinned, size_t(capacity) * 4), "cudaMallocHost (batch metadata)");
        meta_host_ = static_cast<int32_t*>(pinned);
        meta_dev_ = arena_.alloc<int32_t>(capacity, "the batch metadata");  // the old one stays in the arena
        meta_capacity_ = capacity;
    }
    int64_t at = 0;
    const auto put = [&](const void* src, int64_t n_words) {
        const int64_t start = at;
        std::memcpy(meta_host_ + at, src, size_t(n_words) * 4);
        at += n_words;
        return meta_dev_ + start;
    };
    step_.slots = reinterpret_cast<const int64_t*>(put(b.slot_mapping, int64_t(2) * b.n_tokens));
    step_.token_ids = put(b.token_ids, b.n_tokens);
    step_.positions = put(b.positions, b.n_tokens);
    step_.attn.n_tokens = b.n_tokens;
    step_.attn.query_start = put(b.query_start, b.n_seqs + 1);
    step_.attn.context_lens = put(b.context_lens, b.n_seqs);
    step_.attn.block_indptr = put(b.block_indptr, b.n_seqs + 1);
    step_.attn.block_indices = put(b.block_indices, n_blocks);
    step_.attn.tiles = put(tiles_host_.data(), 3 * int64_t(n_tiles));
    step_.attn.n_tiles = n_tiles;
    step_.logits_rows = put(b.logits_rows, b.n_logits);
    step_.attn.max_context_len = 0;
    for (int32_t s = 0; s < b.n_seqs; ++s) step_.attn.max_context_len = std::max(step_.attn.max_context_len, b.context_lens[s]);
    check(cudaMemcpyAsync(meta_dev_, meta_host_, size_t(at) * 4, cudaMemcpyHostToDevice, stream_), "batch metadata upload");
}

bool cuda_backend::compute(const batch_view& b) {
    const model_config& c = config_;
    const int32_t n = b.n_tokens;
    if (n > params_.max_batched_tokens) {
        throw error(ORLEANSLLM_ERR_INTERNAL, "backend cuda: a batch of " + std::to_string(n) + " tokens exceeds max_batched_tokens " +
                                                 std::to_string(params_.max_batched_tokens));
    }
    if (b.n_logits > max_logits_rows_) {
        throw error(ORLEANSLLM_ERR_INTERNAL, "backend cuda: " + std::to_string(b.n_logits) + " logits rows exceed the " +
                                                 std::to_string(max_logits_rows_) + " it was sized for");
    }
    if (k_cache_.empty()) throw error(ORLEANSLLM_ERR_INTERNAL, "backend cuda: forward before allocate_kv");
    if (n == 0) return false;
    check(cudaSetDevice(params_.device_index), "cudaSetDevice");  // the step thread may not be the loading one
    check(cudaStreamSynchronize(stream_), "the previous step");  // the pinned staging is about to be rewritten
    if (!forward_with_graph(b)) {
        upload_batch(b);
        run_model(n, b.n_logits,
                  cuda::paged_attention_splits(step_.attn, c.n_heads, c.n_kv_heads, c.head_dim, n_sms_, split_ws_floats_));
    }
    return true;
}

void cuda_backend::forward(const batch_view& b, float* logits) {
    if (!compute(b)) return;
    if (b.n_logits > 0) {
        check(cudaMemcpyAsync(logits, logits_, size_t(b.n_logits) * size_t(config_.vocab_size) * sizeof(float),
                              cudaMemcpyDeviceToHost, stream_),
              "logits download");
    }
    check(cudaStreamSynchronize(stream_), "forward");
}

bool cuda_backend::forward_greedy(const batch_view& b, int32_t* tokens) {
    if (!compute(b)) return true;
    if (b.n_logits > 0) {
        cuda::launch_argmax(logits_, greedy_tokens_, b.n_logits, config_.vocab_size, stream_);
        check(cudaMemcpyAsync(tokens, greedy_tokens_, size_t(b.n_logits) * sizeof(int32_t), cudaMemcpyDeviceToHost, stream_),
              "greedy tokens download");
    }
    check(cudaStreamSynchronize(stream_), "forward");
    return true;
}

void cuda_backend::run_model(int32_t n, int32_t n_logits, int32_t n_splits) {
    const model_config& c = config_;
    const int32_t hidden = c.hidden_size, inter = c.intermediate_size;
    cuda::launch_embedding(embed_, step_.token_ids, x_, n, hidden, stream_);
    for (int32_t li = 0; li < c.n_layers; ++li) {
        const device_layer& L = layers_[size_t(li)];
        // x += delta (the previous layer's down output; none before layer 0); h = norm(x).
        cuda::launch_rms_norm_residual(x_, li == 0 ? nullptr : delta_, nullptr, L.attn_norm, h_, n, hidden, c.rms_norm_eps,
                                       stream_);
        cuda::gemm_bf16(cublas_, h_, L.qkv, qkv_, n, int32_t(qkv_dim_), hidden);
        if (L.qkv_bias != nullptr) cuda::launch_bias_add(qkv_, L.qkv_bias, n, int32_t(qkv_dim_), stream_);
        float* q = qkv_;
        float* k = qkv_ + q_dim_;
        float* v = qkv_ + q_dim_ + kv_dim_;
        if (L.q_norm != nullptr) {
            cuda::launch_head_rms_norm(q, qkv_dim_, L.q_norm, n, c.n_heads, c.head_dim, c.rms_norm_eps, stream_);
            cuda::launch_head_rms_norm(k, qkv_dim_, L.k_norm, n, c.n_kv_heads, c.head_dim, c.rms_norm_eps, stream_);
        }
        cuda::launch_rope(q, qkv_dim_, step_.positions, inv_freq_, n, c.n_heads, c.head_dim, stream_);
        cuda::launch_rope(k, qkv_dim_, step_.positions, inv_freq_, n, c.n_kv_heads, c.head_dim, stream_);
        cuda::launch_kv_write(k, v, qkv_dim_, step_.slots, k_cache_[size_t(li)], v_cache_[size_t(li)], n, int32_t(kv_dim_),
                              stream_);
        cuda::launch_paged_attention(q, qkv_dim_, k_cache_[size_t(li)], v_cache_[size_t(li)], attn_, step_.attn, c.n_heads,
                                     c.n_kv_heads, c.head_dim, block_size_, n_splits, split_ws_, stream_);
        cuda::gemm_bf16(cublas_, attn_, L.o, delta_, n, hidden, int32_t(q_dim_));
        if (L.o_bias != nullptr) cuda::launch_bias_add(delta_, L.o_bias, n, hidden, stream_);
        cuda::launch_rms_norm_residual(x_, delta_, nullptr, L.mlp_norm, h_, n, hidden, c.rms_norm_eps, stream_);
        cuda::gemm_bf16(cublas_, h_, L.gate_up, gate_up_, n, 2 * inter, hidden);
        cuda::launch_silu_mul(gate_up_, act_, n, inter, stream_);
        cuda::gemm_bf16(cublas_, act_, L.down, delta_, n, hidden, inter);
    }
    if (n_logits == 0) return;
    // Only the logits rows: x += delta, final norm, LM head.
    cuda::launch_rms_norm_residual(x_, delta_, step_.logits_rows, final_norm_, h_, n_logits, hidden, c.rms_norm_eps, stream_);
    cuda::gemm_bf16(cublas_, h_, lm_head_, logits_, n_logits, c.vocab_size, hidden);
}

cuda_backend::graph_layout cuda_backend::layout_for(int32_t size) const {
    graph_layout g{};
    int64_t at = 0;
    const auto take = [&](int64_t words) {
        const int64_t start = at;
        at += words;
        return start;
    };
    g.slots = take(2 * int64_t(size));  // int64: first, 8-byte aligned
    g.token_ids = take(size);
    g.positions = take(size);
    g.query_start = take(size + 1);
    g.context_lens = take(size);
    g.block_indptr = take(size + 1);
    g.tiles = take(3 * int64_t(size));
    g.logits_rows = take(size);
    g.block_indices = take(int64_t(size) * kGraphBlocksPerSeq);
    g.words = at;
    return g;
}

bool cuda_backend::forward_with_graph(const batch_view& b) {
    const int32_t n = b.n_tokens;
    if (max_graph_size_ == 0 || n > max_graph_size_ || b.n_seqs != n || b.n_logits != n) return false;
    for (int32_t i = 0; i < n; ++i) {
        if (b.logits_rows[i] != i || b.query_start[i] != i) return false;  // one token and its logits per sequence
    }
    size_t index = 0;
    while (kGraphSizes[index] < n) ++index;
    const int32_t size = kGraphSizes[index];
    const int32_t n_blocks = b.block_indptr[n];
    if (int64_t(n_blocks) + (size - n) > int64_t(size) * kGraphBlocksPerSeq) return false;

    // The batch padded to `size` at the fixed layout of the largest graph: padding sequences
    // have one token at position 0 whose K/V write is skipped (slot -1), a context of 1 over
    // block 0 (read, never written), and logits rows nobody copies back.
    const graph_layout g = layout_for(max_graph_size_);
    int32_t* h = graph_meta_host_;
    int64_t* slots = reinterpret_cast<int64_t*>(h + g.slots);
    int32_t* tiles = h + g.tiles;
    for (int32_t i = 0; i < size; ++i) {
        const bool real = i < n;
        slots[i] = real ? b.slot_mapping[i] : -1;
        h[g.token_ids + i] = real ? b.token_ids[i] : 0;
        h[g.positions + i] = real ? b.positions[i] : 0;
        h[g.query_start + i] = i;
        h[g.context_lens + i] = real ? b.context_lens[i] : 1;
        h[g.block_indptr + i] = real ? b.block_indptr[i] : n_blocks + (i - n);
        h[g.logits_rows + i] = i;
        tiles[3 * i] = i;
        tiles[3 * i + 1] = i;
        tiles[3 * i + 2] = 1;
    }
    h[g.query_start + size] = size;
    h[g.block_indptr + size] = n_blocks + (size - n);
    std::memcpy(h + g.block_indices, b.block_indices, size_t(n_blocks) * 4);
    for (int32_t i = n; i < size; ++i) h[g.block_indices + n_blocks + (i - n)] = 0;
    const int64_t used = g.block_indices + n_blocks + (size - n);
    check(cudaMemcpyAsync(graph_meta_dev_, graph_meta_host_, size_t(used) * 4, cudaMemcpyHostToDevice, stream_),
          "graph metadata upload");

    if (graphs_[index] == nullptr) {
        const model_config& c = config_;
        int32_t* d = graph_meta_dev_;
        step_.slots = reinterpret_cast<const int64_t*>(d + g.slots);
        step_.token_ids = d + g.token_ids;
        step_.positions = d + g.positions;
        step_.logits_rows = d + g.logits_rows;
        step_.attn.n_tokens = size;
        step_.attn.query_start = d + g.query_start;
        step_.attn.context_lens = d + g.context_lens;
        step_.attn.block_indptr = d + g.block_indptr;
        step_.attn.block_indices = d + g.block_indices;
        step_.attn.tiles = d + g.tiles;
        step_.attn.n_tiles = size;
        // The grid is baked into the graph: split for the longest context a decode may reach,
        // the kernel spreads each sequence's own keys over the splits at run time.
        step_.attn.max_context_len = 1 << 20;
        const int32_t n_splits =
            cuda::paged_attention_splits(step_.attn, c.n_heads, c.n_kv_heads, c.head_dim, n_sms_, split_ws_floats_);
        check(cudaStreamSynchronize(stream_), "before graph capture");
        check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
        cudaGraph_t graph = nullptr;
        try {
            run_model(size, size, n_splits);
        } catch (...) {
            cudaStreamEndCapture(stream_, &graph);
            if (graph != nullptr) cudaGraphDestroy(graph);
            throw;
        }
        check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
        cudaGraphExec_t exec = nullptr;
        const cudaError_t e = cudaGraphInstantiateWithFlags(&exec, graph, 0);
        cudaGraphDestroy(graph);
        check(e, "cudaGraphInstantiate");
        graphs_[index] = exec;
        graph_splits_[index] = n_splits;
    }
    check(cudaGraphLaunch(graphs_[index], stream_), "cudaGraphLaunch");
    return true;
}

}  // namespace

namespace cuda {

bool device_available() {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) cudaGetLastError();
    return e == cudaSuccess && count > 0;
}

std::unique_ptr<forward_backend> make_backend(const model& m, const cuda_backend_params& params) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        if (e != cudaSuccess) cudaGetLastError();
        throw error(ORLEANSLLM_ERR_UNSUPPORTED, std::string("backend cuda: no CUDA device (") +
                                                    (e != cudaSuccess ? cudaGetErrorString(e) : "none visible") + ")");
    }
    if (params.device_index < 0 || params.device_index >= count) {
        throw error(ORLEANSLLM_ERR_INVALID_ARGUMENT, "device_index " + std::to_string(params.device_index) + " is not one of the " +
                                                         std::to_string(count) + " CUDA devices");
    }
    return std::make_unique<cuda_backend>(m, params);
}

}  // namespace cuda

}  // namespace olm
