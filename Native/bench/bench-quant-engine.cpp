// bench-quant-engine MODEL_DIR [DECODE_STEPS]: one model loaded per weight type (BF16/as stored, Q8_0,
// Q4_0 and the Q4_K_M mixture quantized at load; the quantized ones from a memory map, so the
// originals they were made from cost page cache, not a copy each), 2 threads; prefill of 64 tokens and single-token decode steps timed
// in turn (the types alternate step by step), best of each: on a busy machine every type sees the
// same conditions, so the ratios hold even when the absolute numbers do not. Prints JSON lines.
#include "orleansllm.h"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench-quant-engine MODEL_DIR [DECODE_STEPS]\n");
        return 2;
    }
    const int types[] = {0, ORLEANSLLM_DTYPE_Q8_0, ORLEANSLLM_DTYPE_Q4_0, ORLEANSLLM_WEIGHTS_Q4_K_M};
    constexpr int kTypes = 4;
    orleansllm_context* ctx[kTypes];
    long long weight_bytes[kTypes];
    orleansllm_model_info info{};
    for (int i = 0; i < kTypes; ++i) {
        orleansllm_model_params p = orleansllm_model_default_params();
        p.n_threads = 2;
        p.weight_type = types[i];
        p.use_mmap = types[i] != 0 ? 1 : 0;
        orleansllm_model* m = nullptr;
        if (orleansllm_model_load(argv[1], p, &m) != 0) { std::printf("%s\n", orleansllm_last_error()); return 1; }
        orleansllm_model_get_info(m, &info);
        orleansllm_context_params cp = orleansllm_context_default_params(); cp.n_ctx = 512;
        orleansllm_context_init(m, cp, &ctx[i]);
        weight_bytes[i] = info.weight_bytes;
        std::printf("type %d loaded: %lld weight bytes\n", types[i], weight_bytes[i]);
    }
    std::vector<float> logits(size_t(info.vocab_size));
    std::vector<int32_t> prompt(64);
    for (int i = 0; i < 64; ++i) prompt[i] = 1000 + 37 * i;
    double prefill[kTypes], decode[kTypes];
    std::fill(prefill, prefill + kTypes, 1e9);
    std::fill(decode, decode + kTypes, 1e9);
    for (int round = 0; round < 3; ++round)
        for (int i = 0; i < kTypes; ++i) {
            orleansllm_context_reset(ctx[i]);
            auto t0 = std::chrono::steady_clock::now();
            orleansllm_context_eval(ctx[i], prompt.data(), 64, 0, logits.data());
            auto t1 = std::chrono::steady_clock::now();
            prefill[i] = std::min(prefill[i], std::chrono::duration<double>(t1 - t0).count());
        }
    const int steps = argc > 2 ? std::atoi(argv[2]) : 24;
    for (int step = 0; step < steps; ++step)
        for (int i = 0; i < kTypes; ++i) {
            int32_t tok = 500 + step;
            auto t0 = std::chrono::steady_clock::now();
            orleansllm_context_eval(ctx[i], &tok, 1, 0, logits.data());
            auto t1 = std::chrono::steady_clock::now();
            decode[i] = std::min(decode[i], std::chrono::duration<double>(t1 - t0).count());
        }
    for (int i = 0; i < kTypes; ++i)
        std::printf("{\"weight_type\":%d,\"weight_bytes\":%lld,\"prefill_64_tokens_per_s\":%.1f,\"decode_tokens_per_s_best\":%.2f}\n",
                    types[i], weight_bytes[i], 64 / prefill[i], 1 / decode[i]);
}
