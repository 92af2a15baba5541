#include "quant-mix.h"

#include <cstdio>

namespace olm {

namespace {

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between.
bool use_more_bits(int layer, int n_layers) {
    return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

}  // namespace

dtype q4_k_m_type(weight_role role, int layer, int n_layers, int64_t cols, bool tied) {
    dtype type = dtype::q4_k;
    if (role == weight_role::output || (tied && role == weight_role::token_embd)) {
        type = cols % 256 != 0 ? dtype::q8_0 : dtype::q6_k;
    } else if ((role == weight_role::attn_v || role == weight_role::ffn_down) && use_more_bits(layer, n_layers)) {
        type = dtype::q6_k;
    }
    if (cols % dtype_block_elements(type) == 0) return type;
    type = type == dtype::q4_k ? dtype::q5_0 : dtype::q8_0;
    return cols % dtype_block_elements(type) == 0 ? type : dtype::f16;
}

dtype scheme_type(weight_scheme scheme, weight_role role, int layer, int n_layers, int64_t cols, bool tied) {
    switch (scheme) {
        case weight_scheme::q8_0: return cols % 32 == 0 ? dtype::q8_0 : dtype::f16;
        case weight_scheme::q4_0: return cols % 32 == 0 ? dtype::q4_0 : dtype::f16;
        case weight_scheme::q4_k_m: return q4_k_m_type(role, layer, n_layers, cols, tied);
        default: return dtype::f16;
    }
}

dtype q4_k_m_type(const std::string& gguf_name, int n_layers, int64_t cols, bool tied) {
    weight_role role = weight_role::other;
    int layer = 0;
    if (gguf_name == "token_embd.weight") {
        role = weight_role::token_embd;
    } else if (gguf_name == "output.weight") {
        role = weight_role::output;
    } else if (gguf_name.find("attn_v.weight") != std::string::npos) {
        role = weight_role::attn_v;
    } else if (gguf_name.find("ffn_down") != std::string::npos) {
        role = weight_role::ffn_down;
    }
    std::sscanf(gguf_name.c_str(), "blk.%d.", &layer);
    return q4_k_m_type(role, layer, n_layers, cols, tied);
}

}  // namespace olm
