#!/usr/bin/python3
"""Golden-logit fixtures for the native engine.

Writes tiny random-weight models in Hugging Face format (config.json + *.safetensors) under
tests/golden/<name>/ and, next to each, golden.json with the logits of an independent reference
forward pass for a few prompts.

The reference (`torch_reference_forward`) is plain PyTorch written from the semantics of the
Hugging Face transformers modeling code for Llama, Mistral, Qwen2 and Qwen3, computed in float32
from the weights exactly as stored (BF16/F16 weights are widened after rounding). It reads the
model back from disk with its own safetensors reader, so the fixture checks what was written.
`--reference hf` swaps in transformers' own implementation where it is installed.

Deterministic: every model and prompt comes from a fixed seed.
Run: /usr/bin/python3 tests/golden/generate.py [--reference torch|hf] [--only NAME ...]
"""

import argparse
import json
import math
import struct
from pathlib import Path

import torch

GOLDEN_DIR = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------
# fixture specifications

ARCHS = {
    "llama": ("LlamaForCausalLM", "llama"),
    "mistral": ("MistralForCausalLM", "mistral"),
    "qwen2": ("Qwen2ForCausalLM", "qwen2"),
    "qwen3": ("Qwen3ForCausalLM", "qwen3"),
}

# Shapes are tiny but deliberately uneven (vocab not a multiple of 16, head_dim 24, MHA and
# GQA 2:1 / 4:1) so SIMD remainders and head grouping are exercised.
BASE_SPECS = {
    "llama": dict(arch="llama", seed=101, vocab=160, hidden=64, inter=64, layers=2,
                  heads=4, kv_heads=2, rope_theta=10000.0, eps=1e-5),
    "llama3": dict(arch="llama", seed=102, vocab=128, hidden=32, inter=64, layers=2,
                   heads=2, kv_heads=1, rope_theta=500000.0, eps=1e-5,
                   # original_max_position_embeddings 64 puts head_dim 16's frequencies in all
                   # three bands of the llama3 rule (kept, interpolated, divided by factor).
                   rope_scaling={"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_max_position_embeddings": 64, "rope_type": "llama3"},
                   bos=1, eos=[2, 3]),
    "mistral": dict(arch="mistral", seed=103, vocab=160, hidden=48, inter=64, layers=2,
                    heads=3, kv_heads=1, rope_theta=1000000.0, eps=1e-5, sliding_window=None),
    "qwen2": dict(arch="qwen2", seed=104, vocab=128, hidden=64, inter=64, layers=2,
                  heads=4, kv_heads=2, rope_theta=1000000.0, eps=1e-6, attention_bias=True,
                  # a window is named but use_sliding_window is false, so attention is full
                  # (the window is narrower than the longest prompt on purpose).
                  sliding_window=16, use_sliding_window=False),
    "qwen3": dict(arch="qwen3", seed=105, vocab=128, hidden=32, inter=64, layers=2,
                  heads=4, kv_heads=2, head_dim=16, rope_theta=1000000.0, eps=1e-6,
                  sliding_window=None, use_sliding_window=False, tied=False),
    "tied": dict(arch="llama", seed=106, vocab=144, hidden=48, inter=64, layers=2,
                 heads=3, kv_heads=3, rope_theta=10000.0, eps=1e-5, tied=True),
    "llama_head_dim": dict(arch="llama", seed=107, vocab=128, hidden=32, inter=64, layers=2,
                           heads=4, kv_heads=2, head_dim=24, rope_theta=10000.0, eps=1e-5),
    "sharded": dict(arch="llama", seed=108, vocab=136, hidden=32, inter=64, layers=3,
                    heads=4, kv_heads=2, rope_theta=10000.0, eps=1e-5, shards=2),
}

# (fixture name, base spec, stored dtype); the BF16/F16 variants reuse the base seed, so their
# weights are the F32 fixture's weights rounded.
FIXTURES = [(name, name, "F32") for name in BASE_SPECS] + [
    ("llama_bf16", "llama", "BF16"),
    ("qwen3_bf16", "qwen3", "BF16"),
    ("qwen2_f16", "qwen2", "F16"),
    ("mistral_f16", "mistral", "F16"),
]

PROMPT_LENGTHS = [1, 13, 40]
TOLERANCE = {"F32": 1e-4, "BF16": 2e-2, "F16": 2e-2}
TORCH_DTYPE = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
HF_DTYPE_NAME = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}


def head_dim_of(spec):
    return spec.get("head_dim", spec["hidden"] // spec["heads"])


def make_config(spec, dtype):
    arch_class, model_type = ARCHS[spec["arch"]]
    config = {
        "architectures": [arch_class],
        "model_type": model_type,
        "vocab_size": spec["vocab"],
        "hidden_size": spec["hidden"],
        "intermediate_size": spec["inter"],
        "num_hidden_layers": spec["layers"],
        "num_attention_heads": spec["heads"],
        "num_key_value_heads": spec["kv_heads"],
        "hidden_act": "silu",
        "max_position_embeddings": 512,
        "rms_norm_eps": spec["eps"],
        "rope_theta": spec["rope_theta"],
        "rope_scaling": spec.get("rope_scaling"),
        "tie_word_embeddings": spec.get("tied", False),
        "bos_token_id": spec.get("bos", 1),
        "eos_token_id": spec.get("eos", 2),
        "torch_dtype": HF_DTYPE_NAME[dtype],
        "initializer_range": 0.02,
        "use_cache": True,
    }
    if "head_dim" in spec:
        config["head_dim"] = spec["head_dim"]
    if spec["arch"] in ("llama", "qwen3"):
        config["attention_bias"] = spec.get("attention_bias", False)
        config["attention_dropout"] = 0.0
    if spec["arch"] == "llama":
        config["mlp_bias"] = False
        config["pretraining_tp"] = 1
    if spec["arch"] in ("mistral", "qwen2", "qwen3"):
        config["sliding_window"] = spec.get("sliding_window")
    if spec["arch"] in ("qwen2", "qwen3"):
        config["use_sliding_window"] = spec.get("use_sliding_window", False)
        config["max_window_layers"] = spec["layers"]
    return config


def make_weights(spec):
    """Random float32 weights with HF tensor names, scaled so logits are O(1..10)."""
    gen = torch.Generator().manual_seed(spec["seed"])
    hidden, inter, hd = spec["hidden"], spec["inter"], head_dim_of(spec)
    q_out, kv_out = spec["heads"] * hd, spec["kv_heads"] * hd

    def normal(*shape, std):
        return torch.randn(*shape, generator=gen, dtype=torch.float32) * std

    def norm_weight(n):  # not all ones, so a missing multiply shows
        return 0.6 + 0.8 * torch.rand(n, generator=gen, dtype=torch.float32)

    w = {}
    # A tied table doubles as lm_head; a smaller scale keeps its logits O(1..10).
    w["model.embed_tokens.weight"] = normal(spec["vocab"], hidden,
                                            std=0.5 if spec.get("tied") else 1.0)
    for i in range(spec["layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm_weight(hidden)
        # q/k a bit larger than 1/sqrt(in) so attention is not uniform.
        w[p + "self_attn.q_proj.weight"] = normal(q_out, hidden, std=1.5 / math.sqrt(hidden))
        w[p + "self_attn.k_proj.weight"] = normal(kv_out, hidden, std=1.5 / math.sqrt(hidden))
        w[p + "self_attn.v_proj.weight"] = normal(kv_out, hidden, std=1.0 / math.sqrt(hidden))
        w[p + "self_attn.o_proj.weight"] = normal(hidden, q_out, std=1.0 / math.sqrt(q_out))
        if spec.get("attention_bias"):
            w[p + "self_attn.q_proj.bias"] = normal(q_out, std=0.5)
            w[p + "self_attn.k_proj.bias"] = normal(kv_out, std=0.5)
            w[p + "self_attn.v_proj.bias"] = normal(kv_out, std=0.5)
        if spec["arch"] == "qwen3":
            w[p + "self_attn.q_norm.weight"] = norm_weight(hd)
            w[p + "self_attn.k_norm.weight"] = norm_weight(hd)
        w[p + "post_attention_layernorm.weight"] = norm_weight(hidden)
        w[p + "mlp.gate_proj.weight"] = normal(inter, hidden, std=1.0 / math.sqrt(hidden))
        w[p + "mlp.up_proj.weight"] = normal(inter, hidden, std=1.0 / math.sqrt(hidden))
        w[p + "mlp.down_proj.weight"] = normal(hidden, inter, std=1.0 / math.sqrt(inter))
    w["model.norm.weight"] = norm_weight(hidden)
    if not spec.get("tied"):
        w["lm_head.weight"] = normal(spec["vocab"], hidden, std=3.0 / math.sqrt(hidden))
    return w


def make_prompts(spec):
    gen = torch.Generator().manual_seed(spec["seed"] + 1000)
    prompts = []
    for n in PROMPT_LENGTHS:
        ids = torch.randint(0, spec["vocab"], (n,), generator=gen).tolist()
        if n > 1:
            ids[0] = spec.get("bos", 1)  # most real prompts start with BOS
        prompts.append(ids)
    return prompts


# ---------------------------------------------------------------------------------------------
# safetensors (own writer and reader; format: u64 LE header length, JSON header, raw data)

ST_DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


def tensor_bytes(t):
    """Little-endian raw bytes of a contiguous tensor (via an integer view for 16-bit floats)."""
    t = t.contiguous()
    if t.dtype == torch.float32:
        return t.view(torch.int32).numpy().astype("<i4").tobytes()
    return t.view(torch.int16).numpy().astype("<i2").tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].to(TORCH_DTYPE[dtype])
        raw = tensor_bytes(t)
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # data starts 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    return offset


def read_safetensors(path):
    data = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        torch_dtype, size = ST_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        raw = bytearray(data[base + begin:base + end])
        int_dtype = torch.int32 if size == 4 else torch.int16
        t = torch.frombuffer(raw, dtype=int_dtype).view(torch_dtype)
        out[name] = t.reshape(info["shape"]).to(torch.float32)
    return out


def write_model_dir(model_dir, config, weights, dtype, shards):
    model_dir.mkdir(parents=True, exist_ok=True)
    for old in model_dir.glob("*.safetensors*"):
        old.unlink()
    (model_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    if shards == 1:
        write_safetensors(model_dir / "model.safetensors", weights, dtype)
        return
    # Contiguous runs of the sorted names per shard, named like HF's sharded checkpoints.
    names = sorted(weights)
    per_shard = math.ceil(len(names) / shards)
    weight_map, total = {}, 0
    for s in range(shards):
        file_name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: weights[n] for n in names[s * per_shard:(s + 1) * per_shard]}
        total += write_safetensors(model_dir / file_name, part, dtype)
        weight_map.update({n: file_name for n in part})
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (model_dir / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")


def load_model_dir(model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    index = model_dir / "model.safetensors.index.json"
    files = (sorted(set(json.loads(index.read_text())["weight_map"].values()))
             if index.exists() else ["model.safetensors"])
    weights = {}
    for f in files:
        weights.update(read_safetensors(model_dir / f))
    return config, weights


# ---------------------------------------------------------------------------------------------
# reference forward pass (float32, HF modeling semantics)

def rms_norm(x, weight, eps):
    # HF LlamaRMSNorm: computed in float32, weight applied after normalisation.
    x = x.to(torch.float32)
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def rope_inv_freq(config, head_dim):
    base = config.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    scaling = config.get("rope_scaling")
    if scaling is None:
        return inv_freq
    rope_type = scaling.get("rope_type", scaling.get("type"))
    if rope_type == "default":
        return inv_freq
    if rope_type != "llama3":
        raise ValueError(f"reference does not implement rope_scaling type {rope_type!r}")
    factor = scaling["factor"]
    low_freq_factor = scaling["low_freq_factor"]
    high_freq_factor = scaling["high_freq_factor"]
    old_context_len = scaling["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    # long wavelengths are divided by factor, short ones kept, the band between interpolated
    scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium, smoothed, scaled)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def torch_reference_forward(model_dir, prompts):
    """Logits [len(prompt), vocab] (float32) for each prompt, each evaluated from position 0."""
    config, w = load_model_dir(model_dir)
    arch = config["architectures"][0]
    if arch not in ("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                    "Qwen3ForCausalLM"):
        raise ValueError(f"reference does not implement {arch}")
    if config.get("sliding_window") is not None and config["model_type"] == "mistral":
        raise ValueError("reference implements full attention only")
    if config.get("use_sliding_window"):
        raise ValueError("reference implements full attention only")
    hidden = config["hidden_size"]
    n_heads = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads", n_heads)
    head_dim = config.get("head_dim") or hidden // n_heads
    eps = config["rms_norm_eps"]
    is_qwen3 = config["model_type"] == "qwen3"
    lm_head = w["model.embed_tokens.weight"] if config.get("tie_word_embeddings") \
        else w["lm_head.weight"]
    inv_freq = rope_inv_freq(config, head_dim)

    def linear(x, name):
        y = x @ w[name + ".weight"].T
        bias = w.get(name + ".bias")
        return y + bias if bias is not None else y

    results = []
    for ids in prompts:
        n = len(ids)
        x = w["model.embed_tokens.weight"][torch.tensor(ids)]          # [n, hidden]
        positions = torch.arange(n, dtype=torch.float32)
        freqs = positions[:, None] * inv_freq[None, :]                   # [n, head_dim/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None], emb.sin()[None]                      # [1, n, head_dim]
        causal = torch.full((n, n), float("-inf")).triu(1)
        for i in range(config["num_hidden_layers"]):
            p = f"model.layers.{i}."
            h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
            q = linear(h, p + "self_attn.q_proj").view(n, n_heads, head_dim)
            k = linear(h, p + "self_attn.k_proj").view(n, n_kv, head_dim)
            v = linear(h, p + "self_attn.v_proj").view(n, n_kv, head_dim)
            if is_qwen3:  # per-head RMSNorm over head_dim, before RoPE
                q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
                k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)  # [heads, n, hd]
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            groups = n_heads // n_kv  # GQA: each KV head serves `groups` consecutive q heads
            k = k.repeat_interleave(groups, dim=0)
            v = v.repeat_interleave(groups, dim=0)
            scores = q @ k.transpose(1, 2) * head_dim ** -0.5 + causal
            attn = torch.softmax(scores.float(), dim=-1) @ v              # [heads, n, hd]
            attn = attn.transpose(0, 1).reshape(n, n_heads * head_dim)
            x = x + linear(attn, p + "self_attn.o_proj")
            h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
            gate = torch.nn.functional.silu(linear(h, p + "mlp.gate_proj"))
            x = x + linear(gate * linear(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        x = rms_norm(x, w["model.norm.weight"], eps)
        results.append(x @ lm_head.T)
    return results


def hf_reference_forward(model_dir, prompts):
    """The same contract through transformers itself (where it is installed, e.g. a GPU machine).

    Not exercised where these fixtures were first made (no transformers there)."""
    import transformers
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(model_dir), torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        return [model(torch.tensor([ids])).logits[0].float() for ids in prompts]


REFERENCES = {
    "torch": (torch_reference_forward,
              f"tests/golden/generate.py, PyTorch {torch.__version__}, float32 reference written "
              "from HF modeling semantics (torch_reference_forward)"),
    "hf": (hf_reference_forward, None),  # description filled in with the transformers version
}


# ---------------------------------------------------------------------------------------------

def format_logits(rows):
    # 7 significant digits: rounding stays ~5e-7 relative, far below the 1e-4 tolerance.
    return "[" + ",".join("[" + ",".join(f"{v:.7g}" for v in row) + "]" for row in rows) + "]"


def write_golden(path, produced_by, dtype, spec_name, prompts, logits):
    parts = [
        '{\n"produced_by": ' + json.dumps(produced_by),
        '"base_spec": ' + json.dumps(spec_name),
        '"weight_dtype": ' + json.dumps(dtype),
        '"tolerance": ' + json.dumps(TOLERANCE[dtype]),
        '"prompts": ' + json.dumps(prompts),
        '"logits": [\n' + ",\n".join(format_logits(l.tolist()) for l in logits) + "\n]\n}\n",
    ]
    path.write_text(",\n".join(parts))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", choices=sorted(REFERENCES), default="torch")
    parser.add_argument("--only", nargs="*", help="fixture names (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one summation order, whatever the machine
    forward, produced_by = REFERENCES[args.reference]
    if args.reference == "hf":
        import transformers
        produced_by = (f"tests/golden/generate.py --reference hf, transformers "
                       f"{transformers.__version__}, PyTorch {torch.__version__}, float32")

    for name, spec_name, dtype in FIXTURES:
        if args.only and name not in args.only:
            continue
        spec = BASE_SPECS[spec_name]
        model_dir = GOLDEN_DIR / name
        write_model_dir(model_dir, make_config(spec, dtype), make_weights(spec), dtype,
                        spec.get("shards", 1))
        prompts = make_prompts(spec)
        with torch.no_grad():
            logits = forward(model_dir, prompts)
        write_golden(model_dir / "golden.json", produced_by, dtype, spec_name, prompts, logits)
        peak = max(float(l.abs().max()) for l in logits)
        spread = sum(float(l.std()) for l in logits) / len(logits)
        print(f"{name:16s} {dtype:5s} max|logit| {peak:6.2f}  mean std {spread:5.2f}")


if __name__ == "__main__":
    main()
