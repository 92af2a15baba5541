// bench-decode-profile MODEL [PROMPT_TOKENS] [DECODE_TOKENS] [THREADS] [WEIGHT_TYPE]: single-sequence decode as
// `bench peer` measures it (a prompt, then one token per eval; WEIGHT_TYPE as
// orleansllm_model_params.weight_type: 3 = Q8_0, 4 = Q4_0 quantized at load), printed as JSON: tokens/s, the
// weight bytes streamed per second, and the process CPU time per token (less disturbed by
// neighbours than wall time on a shared machine). Built with -DORLEANSLLM_OP_PROFILE=ON it adds the
// wall and calling-thread CPU time of every forward() stage per decoded token (src/op-profile.h);
// docs/PERFORMANCE.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "bench-engine.h"
#include "op-profile.h"

using namespace olm_bench;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench-decode-profile MODEL [PROMPT_TOKENS=512] [DECODE_TOKENS=128] [THREADS=2] [WEIGHT_TYPE=0]\n");
        return 2;
    }
    const int prompt_tokens = argc > 2 ? std::atoi(argv[2]) : 512;
    const int decode_tokens = argc > 3 ? std::atoi(argv[3]) : 128;
    orleansllm_model_params mp = orleansllm_model_default_params();
    mp.n_threads = argc > 4 ? std::atoi(argv[4]) : 2;
    mp.weight_type = argc > 5 ? std::atoi(argv[5]) : 0;
    engine_session session;
    if (!session.open(argv[1], mp, prompt_tokens + decode_tokens + 1)) return 1;
    orleansllm_context* ctx = session.ctx;
    const int64_t rss_after_load = resident_bytes();
    const orleansllm_model_info& info = session.info;
    std::vector<float> logits(size_t(info.vocab_size));
    const std::vector<int32_t> prompt = synthetic_prompt(prompt_tokens, info.vocab_size);
    // The prompt's one eval timed too (prefill), as `bench peer` times its prefill.
#ifdef OLM_OP_PROFILE
    olm::op_profile_reset();
#endif
    const double prefill_cpu0 = process_cpu_s();
    const auto p0 = std::chrono::steady_clock::now();
    orleansllm_context_eval(ctx, prompt.data(), prompt_tokens, 0, logits.data());
    const double prefill_wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
    const double prefill_cpu_s = process_cpu_s() - prefill_cpu0;

#ifdef OLM_OP_PROFILE
    const olm::op_profile_totals prefill_totals = olm::op_profile_read();
    olm::op_profile_reset();
#endif
    const double cpu0 = process_cpu_s();
    const auto t0 = std::chrono::steady_clock::now();
    double best_step_s = 1e30;
    int32_t token = prompt.back();
    for (int i = 0; i < decode_tokens; ++i) {
        const auto s0 = std::chrono::steady_clock::now();
        orleansllm_context_eval(ctx, &token, 1, 0, logits.data());
        best_step_s = std::min(best_step_s, std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());
        token = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu_s = process_cpu_s() - cpu0;

    std::printf("{\"prompt_tokens\":%d,\"decode_tokens\":%d,\"threads\":%d,\"weight_type\":%d,\"weight_bytes\":%lld,", prompt_tokens,
                decode_tokens, mp.n_threads, mp.weight_type, (long long)info.weight_bytes);
    std::printf("\"decode_tokens_per_s\":%.2f,\"best_step_tokens_per_s\":%.2f,\"weight_GB_per_s\":%.1f,\"cpu_ms_per_token\":%.2f",
                decode_tokens / wall_s, 1 / best_step_s, double(info.weight_bytes) * decode_tokens / wall_s / 1e9,
                cpu_s * 1e3 / decode_tokens);
    std::printf(",\"prefill_tokens_per_s\":%.1f,\"prefill_cpu_ms\":%.1f", prompt_tokens / prefill_wall_s, prefill_cpu_s * 1e3);
    std::printf(",\"rss_after_load_bytes\":%lld,\"released_weight_bytes\":%lld", (long long)rss_after_load,
                (long long)session.model->impl->released_weight_bytes);
#ifdef OLM_OP_PROFILE
    // Each stage's wall ms per `per` (decoded tokens, or the one prefill), its share, its CPU ms.
    const auto stages = [](const char* name, const olm::op_profile_totals& totals, double per) {
        int64_t all_ns = 0;
        for (int s = 0; s < int(olm::op_stage::count); ++s) all_ns += totals.ns[s];
        std::printf(",\"%s\":{", name);
        for (int s = 0; s < int(olm::op_stage::count); ++s) {
            std::printf("%s\"%s\":{\"ms\":%.3f,\"share\":%.3f,\"cpu_ms\":%.3f}", s ? "," : "",
                        olm::op_stage_name(olm::op_stage(s)), double(totals.ns[s]) / 1e6 / per,
                        double(totals.ns[s]) / double(all_ns), double(totals.cpu_ns[s]) / 1e6 / per);
        }
        std::printf("}");
        return all_ns;
    };
    const int64_t all_ns = stages("stages_ms_per_token", olm::op_profile_read(), decode_tokens);
    std::printf(",\"untimed_ms_per_token\":%.3f", (wall_s * 1e9 - double(all_ns)) / 1e6 / decode_tokens);
    stages("prefill_stages_ms", prefill_totals, 1);
#endif
    std::printf("}\n");
}
