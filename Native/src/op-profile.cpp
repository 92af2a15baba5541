#include "op-profile.h"

#include <chrono>

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

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

void op_profile_reset() { g_totals = {}; }
op_profile_totals op_profile_read() { return g_totals; }

op_scope::op_scope(op_stage s) : stage_(s), start_ns_(now_ns()) {}
op_scope::~op_scope() {
    g_totals.ns[int(stage_)] += now_ns() - start_ns_;
    ++g_totals.calls[int(stage_)];
}
#endif

}  // namespace olm
