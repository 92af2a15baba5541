// op-profile.h: wall time per stage of forward(), for finding where a decode step goes.
//
// Compiled in only with -DORLEANSLLM_OP_PROFILE=ON (the definition OLM_OP_PROFILE): the product
// build's op_scope is empty, so forward() pays nothing for it. Each stage gets the wall time and
// the CPU time of the thread that runs forward(); a stage that dispatches to the pool includes its
// fork/join in both. With one thread the CPU time leaves out the time the thread was descheduled,
// which on a shared machine is the steadier figure. One forward() at a time (the counters are
// plain globals): the profiling bench's single context.
#pragma once

#include <cstdint>

namespace olm {

enum class op_stage : int32_t {
    embed,      // token embedding rows
    attn_norm,  // RMSNorm before attention
    qkv,        // q, k, v projections
    rope_kv,    // biases, q/k norms, RoPE, K/V cache writes
    attention,  // paged attention
    o_proj,     // attention output projection
    residual,   // residual adds and the RMSNorm before the MLP
    gate_up,    // gate and up projections
    silu,       // SiLU(gate) · up
    down,       // down projection
    lm_head,    // final norm and LM head
    count
};

const char* op_stage_name(op_stage s);

#ifdef OLM_OP_PROFILE
// Nanoseconds (wall, and CPU of the calling thread) and calls per stage since the last
// op_profile_reset().
struct op_profile_totals {
    int64_t ns[int(op_stage::count)];
    int64_t cpu_ns[int(op_stage::count)];
    int64_t calls[int(op_stage::count)];
};
void op_profile_reset();
op_profile_totals op_profile_read();

class op_scope {
public:
    explicit op_scope(op_stage s);
    ~op_scope();
    op_scope(const op_scope&) = delete;
    op_scope& operator=(const op_scope&) = delete;

private:
    op_stage stage_;
    int64_t start_ns_;
    int64_t start_cpu_ns_;
};
#else
class op_scope {
public:
    explicit op_scope(op_stage) {}
};
#endif

}  // namespace olm
