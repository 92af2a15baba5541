// bench-packed-decode MODEL.gguf [STEPS=64] [THREADS=2]: single-sequence decode of one loaded Q8_0 /
// Q4_0 / Q4_K_M model with its weights' packed copies (decode on the packed layouts' kernels,
// gemm-q8.h and k-decode.h) and with them hidden (the int8 row kernels over the GGUF blocks, what
// decode ran before), alternating
// step by step on one context, so that a machine shared with other work disturbs both alike.
// Prints JSON: best and median tokens/s of each, the median process CPU time per step (all
// threads, the pool's short spin included: less disturbed by neighbours than wall time), and the
// ratios. docs/QUANTIZATION.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "bench-engine.h"

namespace {

using namespace olm_bench;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    keep_packed_sources();  // the original blocks are what the hidden-copy rounds read
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench-packed-decode MODEL.gguf [STEPS=64] [THREADS=2]\n");
        return 2;
    }
    const int steps = argc > 2 ? std::atoi(argv[2]) : 64;
    orleansllm_model_params mp = orleansllm_model_default_params();
    mp.n_threads = argc > 3 ? std::atoi(argv[3]) : 2;
    const int prompt_tokens = 32;
    engine_session session;
    if (!session.open(argv[1], mp, prompt_tokens + 2 * steps + 1)) return 1;
    orleansllm_context* ctx = session.ctx;
    const auto packed = packed_matrices(*session.model->impl, [](const olm::matrix&) { return true; });
    std::vector<float> logits(size_t(session.info.vocab_size));
    const std::vector<int32_t> prompt = synthetic_prompt(prompt_tokens, session.info.vocab_size);
    orleansllm_context_eval(ctx, prompt.data(), prompt_tokens, 0, logits.data());
    std::vector<double> tps[2], cpu_ms[2];  // [0] packed, [1] hidden
    int32_t token = prompt.back();
    for (int i = 0; i < 2 * steps; ++i) {
        const int mode = i % 2;
        for (const auto& p : packed) {  // the decode copies (K types, Q4_0) hidden with the rest
            p.w->packed = mode == 0 ? p.loaded.packed : nullptr;
            p.w->decode_packed = mode == 0 ? p.loaded.decode_packed : nullptr;
        }
        const double c0 = process_cpu_s();
        const auto s0 = std::chrono::steady_clock::now();
        orleansllm_context_eval(ctx, &token, 1, 0, logits.data());
        tps[mode].push_back(1 / std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());
        cpu_ms[mode].push_back((process_cpu_s() - c0) * 1e3);
        token = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    for (const auto& p : packed) *p.w = p.loaded;
    const double best[2] = {*std::max_element(tps[0].begin(), tps[0].end()), *std::max_element(tps[1].begin(), tps[1].end())};
    const double med[2] = {median(tps[0]), median(tps[1])};
    std::printf("{\"model\":\"%s\",\"threads\":%d,\"steps_each\":%d,\"packed_matrices\":%zu,", argv[1], mp.n_threads, steps,
                packed.size());
    std::printf("\"packed_best_tok_s\":%.2f,\"rows_best_tok_s\":%.2f,\"packed_median_tok_s\":%.2f,\"rows_median_tok_s\":%.2f,",
                best[0], best[1], med[0], med[1]);
    const double cpu[2] = {median(cpu_ms[0]), median(cpu_ms[1])};
    std::printf("\"packed_median_cpu_ms\":%.1f,\"rows_median_cpu_ms\":%.1f,", cpu[0], cpu[1]);
    std::printf("\"best_ratio\":%.3f,\"median_ratio\":%.3f,\"cpu_ratio\":%.3f}\n", best[0] / best[1], med[0] / med[1], cpu[1] / cpu[0]);
}
