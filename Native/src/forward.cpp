#include "forward.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "aligned-vector.h"
#include "cpu/matmul.h"
#include "cpu/ops.h"
#include "model.h"
#include "op-profile.h"
#include "quant.h"
#include "thread-pool.h"

namespace olm {

kv_storage::kv_storage(const model& m, int32_t n_blocks, int32_t block_size_tokens, dtype type)
    : n_blocks_(n_blocks), block_size_(block_size_tokens), type_(type) {
    const size_t bytes = size_t(n_blocks) * size_t(block_size_tokens) * size_t(m.config.n_kv_heads) *
                         size_t(kv_row_bytes(type, m.config.head_dim));
    k_.reserve(static_cast<size_t>(m.config.n_layers));
    v_.reserve(static_cast<size_t>(m.config.n_layers));
    for (int32_t l = 0; l < m.config.n_layers; ++l) {
        k_.emplace_back(bytes);
        v_.emplace_back(bytes);
    }
}

int64_t kv_storage::bytes_per_block(const model& m, int32_t block_size_tokens, dtype type) {
    return m.kv_bytes_per_token(type) * block_size_tokens;
}

int64_t kv_storage::bytes_per_block(const model& m, int32_t block_size_tokens) {
    return bytes_per_block(m, block_size_tokens, m.kv_type());
}

namespace {

// Writes embedding rows of `ids` as float32: out [n, hidden].
void embed_tokens(const matrix& embed, const int32_t* ids, int64_t n, float* out) {
    const int64_t h = embed.cols;
    for (int64_t t = 0; t < n; ++t) {
        const int64_t row = ids[t];
        float* o = out + t * h;
        switch (embed.type) {
            case dtype::f32:
                std::memcpy(o, static_cast<const float*>(embed.data) + row * h, size_t(h) * sizeof(float));
                break;
            case dtype::bf16: {
                const uint16_t* src = static_cast<const uint16_t*>(embed.data) + row * h;
                for (int64_t i = 0; i < h; ++i) o[i] = from_bf16(src[i]);
                break;
            }
            case dtype::f16: {
                const uint16_t* src = static_cast<const uint16_t*>(embed.data) + row * h;
                for (int64_t i = 0; i < h; ++i) o[i] = _cvtsh_ss(src[i]);
                break;
            }
            default:  // quantized
                dequantize_row(embed.type, static_cast<const uint8_t*>(embed.data) + row * embed.row_bytes(), o, h);
                break;
        }
    }
}

// Writes the K or V of one token (n_kv_heads rows of head_dim floats) into its cache slot in the
// cache's type: BF16 rounds to nearest even; kv_int8 quantizes each (token, head) row
// (quantize_kv_int8_row).
void store_kv(void* cache, dtype type, int64_t slot, const float* src, int32_t n_kv_heads, int32_t head_dim) {
    const int64_t n = int64_t(n_kv_heads) * head_dim;
    if (type == dtype::f32) {
        std::memcpy(static_cast<float*>(cache) + slot * n, src, size_t(n) * sizeof(float));
        return;
    }
    if (type == dtype::bf16) {
        uint16_t* dst = static_cast<uint16_t*>(cache) + slot * n;
        for (int64_t i = 0; i < n; ++i) dst[i] = to_bf16(src[i]);
        return;
    }
    const int64_t row_bytes = kv_row_bytes(type, head_dim);
    uint8_t* dst = static_cast<uint8_t*>(cache) + slot * n_kv_heads * row_bytes;
    for (int32_t h = 0; h < n_kv_heads; ++h) quantize_kv_int8_row(src + int64_t(h) * head_dim, head_dim, dst + h * row_bytes);
}

void add_bias(float* x, const std::vector<float>& bias, int64_t n) {
    if (bias.empty()) return;
    const int64_t d = static_cast<int64_t>(bias.size());
    for (int64_t t = 0; t < n; ++t) add_inplace(x + t * d, bias.data(), d);
}

}  // namespace

void forward(const model& m, kv_storage& kv, const batch_view& b, thread_pool& pool, float* logits) {
    const model_config& c = m.config;
    const int64_t n = b.n_tokens, hidden = c.hidden_size, hd = c.head_dim;
    const int64_t q_dim = int64_t(c.n_heads) * hd, kv_dim = int64_t(c.n_kv_heads) * hd, inter = c.intermediate_size;

    aligned_vector<float> x(size_t(n * hidden)), h(size_t(n * hidden)), tmp(size_t(n * hidden));
    aligned_vector<float> q(size_t(n * q_dim)), k(size_t(n * kv_dim)), v(size_t(n * kv_dim)), attn(size_t(n * q_dim));
    aligned_vector<float> gate(size_t(n * inter)), up(size_t(n * inter));

    {
        op_scope s(op_stage::embed);
        embed_tokens(m.embed, b.token_ids, n, x.data());
    }

    // RoPE tables, computed in float32 as the reference implementation does: [n, hd/2].
    const int64_t half = hd / 2;
    std::vector<float> cos_table(size_t(n * half)), sin_table(size_t(n * half));
    for (int64_t t = 0; t < n; ++t) {
        const float pos = static_cast<float>(b.positions[t]);
        for (int64_t i = 0; i < half; ++i) {
            const float angle = pos * m.rope_inv_freq[size_t(i)];
            cos_table[size_t(t * half + i)] = std::cos(angle);
            sin_table[size_t(t * half + i)] = std::sin(angle);
        }
    }

    // Token-wise work (norms, biases, RoPE, cache writes, residuals, SiLU) is split across the
    // pool by token range once a batch is large enough to repay a dispatch.
    const auto for_tokens = [&](const auto& fn) {
        constexpr int64_t kInlineTokens = 8;
        if (n <= kInlineTokens || pool.size() == 1) {
            fn(int64_t(0), n);
            return;
        }
        const int64_t n_tasks = std::min<int64_t>(n / kInlineTokens, int64_t(pool.size()) * 4);
        pool.parallel_for(n_tasks, [&](int64_t i) { fn(n * i / n_tasks, n * (i + 1) / n_tasks); });
    };

    float* const xs = x.data();
    for (int32_t li = 0; li < c.n_layers; ++li) {
        const layer_weights& L = m.layers[size_t(li)];
        void* k_cache = kv.keys(li);
        void* v_cache = kv.values(li);

        {
            op_scope s(op_stage::attn_norm);
            for_tokens([&](int64_t t0, int64_t t1) {
                rms_norm(xs + t0 * hidden, L.attn_norm.data(), h.data() + t0 * hidden, t1 - t0, hidden, c.rms_norm_eps);
            });
        }
        {
            op_scope s(op_stage::qkv);
            matmul(pool, h.data(), n, {{&L.q, q.data()}, {&L.k, k.data()}, {&L.v, v.data()}});
        }
        {
            op_scope s(op_stage::rope_kv);
            for_tokens([&](int64_t t0, int64_t t1) {
                const int64_t nt = t1 - t0;
                float* qt = q.data() + t0 * q_dim;
                float* kt = k.data() + t0 * kv_dim;
                float* vt = v.data() + t0 * kv_dim;
                add_bias(qt, L.q_bias, nt);
                add_bias(kt, L.k_bias, nt);
                add_bias(vt, L.v_bias, nt);
                if (c.qk_norm) {
                    rms_norm(qt, L.q_norm.data(), qt, nt * c.n_heads, hd, c.rms_norm_eps);
                    rms_norm(kt, L.k_norm.data(), kt, nt * c.n_kv_heads, hd, c.rms_norm_eps);
                }
                rope(qt, nt, c.n_heads, hd, cos_table.data() + t0 * half, sin_table.data() + t0 * half);
                rope(kt, nt, c.n_kv_heads, hd, cos_table.data() + t0 * half, sin_table.data() + t0 * half);
                for (int64_t t = t0; t < t1; ++t) {
                    const int64_t slot = b.slot_mapping[t];
                    store_kv(k_cache, kv.type(), slot, k.data() + t * kv_dim, c.n_kv_heads, c.head_dim);
                    store_kv(v_cache, kv.type(), slot, v.data() + t * kv_dim, c.n_kv_heads, c.head_dim);
                }
            });
        }
        {
            op_scope s(op_stage::attention);
            paged_attention(pool, b, q.data(), k_cache, v_cache, attn.data(), c.n_heads, c.n_kv_heads, c.head_dim,
                            kv.block_size_tokens(), kv.type());
        }
        {
            op_scope s(op_stage::o_proj);
            matmul(pool, attn.data(), n, {{&L.o, tmp.data()}});
        }
        {
            op_scope s(op_stage::residual);
            for_tokens([&](int64_t t0, int64_t t1) {
                add_bias(tmp.data() + t0 * hidden, L.o_bias, t1 - t0);
                add_inplace(xs + t0 * hidden, tmp.data() + t0 * hidden, (t1 - t0) * hidden);
                rms_norm(xs + t0 * hidden, L.mlp_norm.data(), h.data() + t0 * hidden, t1 - t0, hidden, c.rms_norm_eps);
            });
        }
        {
            op_scope s(op_stage::gate_up);
            matmul(pool, h.data(), n, {{&L.gate, gate.data()}, {&L.up, up.data()}});
        }
        {
            op_scope s(op_stage::silu);
            for_tokens([&](int64_t t0, int64_t t1) {
                silu_mul(gate.data() + t0 * inter, up.data() + t0 * inter, gate.data() + t0 * inter, t1 - t0, inter);
            });
        }
        {
            op_scope s(op_stage::down);
            matmul(pool, gate.data(), n, {{&L.down, tmp.data()}});
        }
        {
            op_scope s(op_stage::residual);
            for_tokens([&](int64_t t0, int64_t t1) {
                add_inplace(xs + t0 * hidden, tmp.data() + t0 * hidden, (t1 - t0) * hidden);
            });
        }
    }

    if (b.n_logits == 0) return;
    std::vector<float> last(size_t(b.n_logits * hidden));
    for (int32_t i = 0; i < b.n_logits; ++i) {
        std::memcpy(last.data() + int64_t(i) * hidden, x.data() + int64_t(b.logits_rows[i]) * hidden, size_t(hidden) * sizeof(float));
    }
    op_scope s(op_stage::lm_head);
    rms_norm(last.data(), m.final_norm.data(), last.data(), b.n_logits, hidden, c.rms_norm_eps);
    matmul(pool, last.data(), b.n_logits, {{&m.lm_head, logits}});
}

}  // namespace olm
