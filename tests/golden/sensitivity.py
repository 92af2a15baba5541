#!/usr/bin/python3
"""Shows that the golden fixtures catch the usual forward-pass mistakes.

Each mistake is expressed as a change to a fixture's weights or config that makes the correct
reference compute what a buggy engine would; the printed ratio max|Δlogit| / max|logit| against
golden.json must be far above the fixture's tolerance. Nothing is written.
Run: /usr/bin/python3 tests/golden/sensitivity.py
"""

import copy
import json
import sys

import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the fixtures
import generate as g  # noqa: E402


def ratio(golden, logits):
    peak = max(max(abs(v) for row in prompt for v in row) for prompt in golden["logits"])
    diff = max(float((torch.tensor(ref) - got).abs().max())
               for ref, got in zip(golden["logits"], logits))
    return diff / peak


def per_head_rows(w, name, n_heads, head_dim, order):
    """Reorders the head-sized row blocks of a projection (and its bias) by `order`."""
    for suffix in (".weight", ".bias"):
        if name + suffix in w:
            t = w[name + suffix]
            t = t.reshape(n_heads, head_dim, *t.shape[1:])[order]
            w[name + suffix] = t.reshape(n_heads * head_dim, *t.shape[2:])


def within_head_rows(w, name, n_heads, head_dim, perm):
    for suffix in (".weight", ".bias"):
        if name + suffix in w:
            t = w[name + suffix]
            t = t.reshape(n_heads, head_dim, *t.shape[1:])[:, perm]
            w[name + suffix] = t.reshape(n_heads * head_dim, *t.shape[2:])


def layers(config):
    return range(config["num_hidden_layers"])


def norms_ignored(config, w):
    for name in w:
        if name.endswith("norm.weight"):
            w[name] = torch.ones_like(w[name])


def gqa_modulo_mapping(config, w):
    # An engine giving q head h the KV head h % n_kv instead of h // group equals the correct
    # forward with q heads (q_proj rows, o_proj columns) reordered so that slot j holds head h.
    n, n_kv = config["num_attention_heads"], config["num_key_value_heads"]
    hd = config.get("head_dim") or config["hidden_size"] // n
    group = n // n_kv
    free = {kv: [kv * group + i for i in range(group)] for kv in range(n_kv)}
    order = [0] * n
    for h in range(n):
        order[free[h % n_kv].pop(0)] = h
    for i in layers(config):
        p = f"model.layers.{i}.self_attn."
        per_head_rows(w, p + "q_proj", n, hd, order)
        o = w[p + "o_proj.weight"].reshape(-1, n, hd)[:, order]
        w[p + "o_proj.weight"] = o.reshape(o.shape[0], n * hd)


def rope_interleaved(config, w):
    # GPT-J style rotation of (x0,x1),(x2,x3).. instead of rotate_half's (x_i, x_{i+d/2}):
    # equal to the correct forward with q/k rows de-interleaved within each head.
    n, n_kv = config["num_attention_heads"], config["num_key_value_heads"]
    hd = config.get("head_dim") or config["hidden_size"] // n
    perm = list(range(0, hd, 2)) + list(range(1, hd, 2))
    for i in layers(config):
        p = f"model.layers.{i}.self_attn."
        within_head_rows(w, p + "q_proj", n, hd, perm)
        within_head_rows(w, p + "k_proj", n_kv, hd, perm)
        for norm in ("q_norm.weight", "k_norm.weight"):
            if p + norm in w:
                w[p + norm] = w[p + norm][perm]


def drop(suffix):
    def mutate(config, w):
        for name in [n for n in w if n.endswith(suffix)]:
            del w[name]
    return mutate


def config_change(key, value):
    def mutate(config, w):
        config[key] = value
    return mutate


def unrounded_weights(config, w):
    # The F32 weights the 16-bit fixture was rounded from: the size of the rounding effect.
    w.clear()
    w.update(g.make_weights(g.BASE_SPECS[golden_spec_name]))


CHECKS = [
    ("llama", "nothing (baseline)", lambda config, w: None),
    ("qwen3_bf16", "nothing (baseline)", lambda config, w: None),
    ("llama", "norm weights ignored", norms_ignored),
    ("llama", "GQA head h -> kv h % n_kv", gqa_modulo_mapping),
    ("llama", "RoPE interleaved pairs", rope_interleaved),
    ("llama3", "llama3 rope_scaling ignored", config_change("rope_scaling", None)),
    ("qwen2", "q/k/v bias ignored", drop("_proj.bias")),
    ("qwen3", "q_norm/k_norm skipped", config_change("model_type", "qwen3-without-qk-norm")),
    ("qwen3", "GQA head h -> kv h % n_kv", gqa_modulo_mapping),
    ("llama_head_dim", "RoPE interleaved pairs", rope_interleaved),
    ("llama_bf16", "weights not rounded to bf16", unrounded_weights),
    ("qwen2_f16", "weights not rounded to f16", unrounded_weights),
]


def main():
    global golden_spec_name
    torch.set_num_threads(1)
    for fixture, what, mutate in CHECKS:
        model_dir = g.GOLDEN_DIR / fixture
        golden = json.loads((model_dir / "golden.json").read_text())
        golden_spec_name = golden["base_spec"]
        config, weights = g.load_model_dir(model_dir)
        config, weights = copy.deepcopy(config), dict(weights)
        mutate(config, weights)
        original = g.load_model_dir
        g.load_model_dir = lambda _: (config, weights)
        try:
            with torch.no_grad():
                logits = g.torch_reference_forward(model_dir, golden["prompts"])
        finally:
            g.load_model_dir = original
        print(f"{fixture:15s} {what:30s} ratio {ratio(golden, logits):.3e}"
              f"  (tolerance {golden['tolerance']:g})")


if __name__ == "__main__":
    main()
