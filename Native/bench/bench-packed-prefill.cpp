// bench-packed-prefill MODEL.gguf [TOKENS=512] [ROUNDS=4] [THREADS=2]: prefill of one loaded
// quantized model with the K-type matrices' packed copies (Q4_K / Q6_K batches on the int8 GEMM,
// gemm-q8.h) and with those copies hidden (the rows widened to BF16, what prefill ran before),
// alternating round by round on one context, so that a machine shared with other work disturbs
// both alike. Prints JSON: every round's tokens/s, the best of each and their ratio.
// docs/QUANTIZATION.md ("Batches: the int8 GEMM").
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench-engine.h"

using namespace olm_bench;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench-packed-prefill MODEL.gguf [TOKENS=512] [ROUNDS=4] [THREADS=2]\n");
        return 2;
    }
    const int tokens = argc > 2 ? std::atoi(argv[2]) : 512;
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 4;
    keep_packed_sources();  // the hidden-copy rounds widen the original blocks to BF16
    orleansllm_model_params mp = orleansllm_model_default_params();
    mp.n_threads = argc > 4 ? std::atoi(argv[4]) : 2;
    engine_session session;
    if (!session.open(argv[1], mp, tokens)) return 1;
    orleansllm_context* ctx = session.ctx;
    const auto packed = packed_matrices(*session.model->impl, [](const olm::matrix& w) {
        return w.type == olm::dtype::q4_k || w.type == olm::dtype::q6_k;
    });
    if (packed.empty()) {
        std::fprintf(stderr, "%s has no packed Q4_K / Q6_K matrix (not a K-quant file, or a CPU without AVX-512 VNNI)\n", argv[1]);
        return 1;
    }
    std::vector<float> logits(size_t(session.info.vocab_size));
    const std::vector<int32_t> prompt = synthetic_prompt(tokens, session.info.vocab_size);
    std::vector<double> tps[2];  // [0] packed, [1] hidden
    for (int i = 0; i < 2 * rounds; ++i) {
        const int mode = i % 2;
        for (const auto& p : packed) p.w->packed = mode == 0 ? p.loaded.packed : nullptr;
        orleansllm_context_reset(ctx);
        const auto s0 = std::chrono::steady_clock::now();
        if (orleansllm_context_eval(ctx, prompt.data(), tokens, 0, logits.data()) != 0) {
            std::fprintf(stderr, "%s\n", orleansllm_last_error());
            return 1;
        }
        tps[mode].push_back(tokens / std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());
        std::fprintf(stderr, "[bench] round %d %s: %.1f tok/s\n", i / 2 + 1, mode == 0 ? "gemm" : "bf16", tps[mode].back());
    }
    for (const auto& p : packed) *p.w = p.loaded;
    auto list = [](const std::vector<double>& v) {
        std::printf("[");
        for (size_t i = 0; i < v.size(); ++i) std::printf("%s%.1f", i ? "," : "", v[i]);
        std::printf("]");
    };
    const double best[2] = {*std::max_element(tps[0].begin(), tps[0].end()), *std::max_element(tps[1].begin(), tps[1].end())};
    std::printf("{\"model\":\"%s\",\"threads\":%d,\"prefill_tokens\":%d,\"packed_k_matrices\":%zu,\"gemm_tok_s\":", argv[1],
                mp.n_threads, tokens, packed.size());
    list(tps[0]);
    std::printf(",\"bf16_tok_s\":");
    list(tps[1]);
    std::printf(",\"gemm_best_tok_s\":%.1f,\"bf16_best_tok_s\":%.1f,\"best_ratio\":%.3f}\n", best[0], best[1], best[0] / best[1]);
}
