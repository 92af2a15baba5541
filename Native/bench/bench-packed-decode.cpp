// bench-packed-decode MODEL.gguf [STEPS=64] [THREADS=2]: single-sequence decode of one loaded Q8_0 /
// Q4_0 model with its weights' packed copies (decode on the packed layout's kernel, gemm-q8.h) and
// with them hidden (the int8 row kernels over the GGUF blocks, what decode ran before), alternating
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

#include "c-api-handles.h"
#include "orleansllm.h"

namespace {

// Every matrix load_model may have packed, with its packed pointer.
std::vector<std::pair<olm::matrix*, const void*>> packed_matrices(olm::model& m) {
    std::vector<std::pair<olm::matrix*, const void*>> out;
    auto add = [&](olm::matrix& w) {
        if (w.packed != nullptr) out.emplace_back(&w, w.packed);
    };
    add(m.lm_head);
    for (auto& l : m.layers)
        for (olm::matrix* w : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) add(*w);
    return out;
}

double process_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench-packed-decode MODEL.gguf [STEPS=64] [THREADS=2]\n");
        return 2;
    }
    const int steps = argc > 2 ? std::atoi(argv[2]) : 64;
    orleansllm_model_params mp = orleansllm_model_default_params();
    mp.n_threads = argc > 3 ? std::atoi(argv[3]) : 2;
    orleansllm_model* model = nullptr;
    if (orleansllm_model_load(argv[1], mp, &model) != 0) {
        std::fprintf(stderr, "%s\n", orleansllm_last_error());
        return 1;
    }
    const auto packed = packed_matrices(*model->impl);
    orleansllm_model_info info{};
    orleansllm_model_get_info(model, &info);
    orleansllm_context_params cp = orleansllm_context_default_params();
    const int prompt_tokens = 32;
    cp.n_ctx = prompt_tokens + 2 * steps + 1;
    orleansllm_context* ctx = nullptr;
    if (orleansllm_context_init(model, cp, &ctx) != 0) {
        std::fprintf(stderr, "%s\n", orleansllm_last_error());
        return 1;
    }
    std::vector<float> logits(size_t(info.vocab_size));
    std::vector<int32_t> prompt(static_cast<size_t>(prompt_tokens));
    for (int i = 0; i < prompt_tokens; ++i) prompt[size_t(i)] = (1000 + 37 * i) % info.vocab_size;
    orleansllm_context_eval(ctx, prompt.data(), prompt_tokens, 0, logits.data());
    std::vector<double> tps[2], cpu_ms[2];  // [0] packed, [1] hidden
    int32_t token = prompt.back();
    for (int i = 0; i < 2 * steps; ++i) {
        const int mode = i % 2;
        for (const auto& [w, p] : packed) w->packed = mode == 0 ? p : nullptr;
        const double c0 = process_cpu_s();
        const auto s0 = std::chrono::steady_clock::now();
        orleansllm_context_eval(ctx, &token, 1, 0, logits.data());
        tps[mode].push_back(1 / std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count());
        cpu_ms[mode].push_back((process_cpu_s() - c0) * 1e3);
        token = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    }
    for (const auto& [w, p] : packed) w->packed = p;
    const double best[2] = {*std::max_element(tps[0].begin(), tps[0].end()), *std::max_element(tps[1].begin(), tps[1].end())};
    const double med[2] = {median(tps[0]), median(tps[1])};
    std::printf("{\"model\":\"%s\",\"threads\":%d,\"steps_each\":%d,\"packed_matrices\":%zu,", argv[1], mp.n_threads, steps,
                packed.size());
    std::printf("\"packed_best_tok_s\":%.2f,\"rows_best_tok_s\":%.2f,\"packed_median_tok_s\":%.2f,\"rows_median_tok_s\":%.2f,",
                best[0], best[1], med[0], med[1]);
    const double cpu[2] = {median(cpu_ms[0]), median(cpu_ms[1])};
    std::printf("\"packed_median_cpu_ms\":%.1f,\"rows_median_cpu_ms\":%.1f,", cpu[0], cpu[1]);
    std::printf("\"best_ratio\":%.3f,\"median_ratio\":%.3f,\"cpu_ratio\":%.3f}\n", best[0] / best[1], med[0] / med[1], cpu[1] / cpu[0]);
    orleansllm_context_free(ctx);
    orleansllm_model_free(model);
}
