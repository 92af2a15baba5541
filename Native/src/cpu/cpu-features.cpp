#include "cpu-features.h"

namespace olm {

bool cpu_has_avx512() {
    static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    return yes;
}

bool cpu_has_avx512_bf16() {
    static const bool yes = cpu_has_avx512() && __builtin_cpu_supports("avx512bf16");
    return yes;
}

bool cpu_has_avx512_vnni() {
    static const bool yes = cpu_has_avx512() && __builtin_cpu_supports("avx512vnni");
    return yes;
}

const char* cpu_feature_level() { return cpu_has_avx512_bf16() ? "avx512bf16" : cpu_has_avx512() ? "avx512" : "avx2"; }

}  // namespace olm
