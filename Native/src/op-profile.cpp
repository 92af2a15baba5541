#include "op-profile.h"

#include <time.h>

namespace olm {

const char* op_stage_name(op_stage s) {
    static const char* const names[] = {"embed",   "attn_norm", "qkv",     "rope_kv", "attention", "o_proj",
                                        "residual", "gate_up",  "silu",    "down",    "lm_head"};
    static_assert(sizeof(names) / sizeof(names[0]) == size_t(op_stage::count), "one name per stage");
    return names[int(s)];
}

#ifdef OLM_OP_PROFILE
namespace {

op_profile_totals g_totals{};

int64_t clock_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

void op_profile_reset() { g_totals = {}; }
op_profile_totals op_profile_read() { return g_totals; }

op_scope::op_scope(op_stage s)
    : stage_(s), start_ns_(clock_ns(CLOCK_MONOTONIC)), start_cpu_ns_(clock_ns(CLOCK_THREAD_CPUTIME_ID)) {}
op_scope::~op_scope() {
    g_totals.cpu_ns[int(stage_)] += clock_ns(CLOCK_THREAD_CPUTIME_ID) - start_cpu_ns_;
    g_totals.ns[int(stage_)] += clock_ns(CLOCK_MONOTONIC) - start_ns_;
    ++g_totals.calls[int(stage_)];
}
#endif

}  // namespace olm
