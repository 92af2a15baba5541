// bench-engine.h: what the engine benchmarks (bench-decode-profile, bench-packed-decode,
// bench-packed-prefill) share: a model and one context opened through the C API, the synthetic
// prompt they all evaluate, process CPU time, and the matrices load_model packed.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <utility>
#include <vector>

#include "c-api-handles.h"
#include "orleansllm.h"

namespace olm_bench {

// A loaded model and one context of n_ctx tokens; open() prints the C API's error and returns false.
struct engine_session {
    orleansllm_model* model = nullptr;
    orleansllm_context* ctx = nullptr;
    orleansllm_model_info info{};

    bool open(const char* path, const orleansllm_model_params& mp, int32_t n_ctx) {
        if (orleansllm_model_load(path, mp, &model) != 0) {
            std::fprintf(stderr, "%s\n", orleansllm_last_error());
            return false;
        }
        orleansllm_model_get_info(model, &info);
        orleansllm_context_params cp = orleansllm_context_default_params();
        cp.n_ctx = n_ctx;
        if (orleansllm_context_init(model, cp, &ctx) != 0) {
            std::fprintf(stderr, "%s\n", orleansllm_last_error());
            return false;
        }
        return true;
    }

    engine_session() = default;
    engine_session(const engine_session&) = delete;
    engine_session& operator=(const engine_session&) = delete;
    ~engine_session() {
        if (ctx != nullptr) orleansllm_context_free(ctx);
        if (model != nullptr) orleansllm_model_free(model);
    }
};

// The prompt every engine benchmark evaluates: n tokens spread over the vocabulary.
inline std::vector<int32_t> synthetic_prompt(int n, int32_t vocab_size) {
    std::vector<int32_t> prompt(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) prompt[size_t(i)] = (1000 + 37 * i) % vocab_size;
    return prompt;
}

inline double process_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// The process's resident memory in bytes (/proc/self/statm), or -1 where it cannot be read.
inline int64_t resident_bytes() {
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return -1;
    long long size = 0, resident = -1;
    const int got = std::fscanf(f, "%lld %lld", &size, &resident);
    std::fclose(f);
    return got == 2 ? int64_t(resident) * 4096 : -1;
}

// A matrix load_model packed, and the matrix as loaded (its packed copies' pointers), so that a
// benchmark can hide the copies and restore them.
struct packed_matrix {
    olm::matrix* w;
    olm::matrix loaded;
};

// The matrices load_model packed (LM head and every layer's projections) that `keep` selects.
// Hiding a copy leaves the kernels the original blocks: call keep_packed_sources() before loading.
template <typename Keep>
std::vector<packed_matrix> packed_matrices(olm::model& m, Keep keep) {
    std::vector<packed_matrix> out;
    olm::for_each_projection(m, [&](olm::matrix& w) {
        if (w.packed != nullptr && keep(w)) out.push_back({&w, w});
    });
    return out;
}

// Keeps the original blocks of packed matrices (load_model releases them otherwise), for the
// benchmarks that compare a packed copy with the kernels over the blocks.
inline void keep_packed_sources() { setenv("ORLEANSLLM_KEEP_PACKED_SOURCES", "1", 1); }

}  // namespace olm_bench
