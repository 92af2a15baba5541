#include "dtype.h"

namespace olm {

const char* dtype_name(dtype t) {
    switch (t) {
        case dtype::f32: return "F32";
        case dtype::f16: return "F16";
        case dtype::bf16: return "BF16";
    }
    return "?";
}

int64_t dtype_size(dtype t) { return t == dtype::f32 ? 4 : 2; }

}  // namespace olm
