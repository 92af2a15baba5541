#!/usr/bin/env python3
"""HF transformers on the GPU machine: the baseline and the reference for the CUDA backend.

  hf_baseline.py tiny-models DIR
      Tiny random-weight models (head_dim 64/128: the CUDA kernels' shapes) as HF folders the
      engine loads (config.json written here in the classic field names, model.safetensors in
      BF16), and hf-logits.json beside each: prompts and transformers' float32 logits.
      DIR/models.txt lists them for `bench-cuda --hf-logits DIR`.
  hf_baseline.py bench --out FILE [--llama-requests N] [--qwen3-requests N] [--batch N] [--tiny]
      transformers `generate` (greedy, bf16, eager loop, fixed output lengths) on the shapes of
      bench-cuda: batch-1 decode on llama3-8b, offline 256+256 on llama3-8b, qwen3-0.6b with the
      same splitmix64 request lengths. Random weights from the configs; no downloads.
  hf_baseline.py combine --engine bench-cuda.json --hf hf-baseline.json --out summary.json
      Speedups of the engine over HF, per scenario.
  hf_baseline.py golden-compare --before DIR --after DIR --out FILE
      tests/golden fixtures: logits of `generate.py --reference hf` (after) vs the committed
      float32 torch reference (before), worst |difference| against each fixture's tolerance.

Every number goes into JSON; nothing is hard-coded.
"""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

MASK64 = (1 << 64) - 1


def splitmix64(x):
    """The engine's splitmix64 (tests/random-model.h), for the same request lengths."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def request_length(key, lo, hi):
    return lo + splitmix64(key) % (hi - lo + 1)


# ---------------------------------------------------------------------------------------------
# configs: the same shapes as tests/random-model.h

def llama3_8b_config():
    return dict(architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=128256, hidden_size=4096,
                intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                head_dim=128, max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=500000.0,
                rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                  original_max_position_embeddings=8192),
                tie_word_embeddings=False, bos_token_id=128000, eos_token_id=128001, hidden_act="silu",
                attention_bias=False, mlp_bias=False)


def qwen3_0_6b_config():
    return dict(architectures=["Qwen3ForCausalLM"], model_type="qwen3", vocab_size=151936, hidden_size=1024,
                intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8,
                head_dim=128, max_position_embeddings=40960, rms_norm_eps=1e-6, rope_theta=1000000.0,
                tie_word_embeddings=True, eos_token_id=151645, hidden_act="silu", attention_bias=False,
                use_sliding_window=False, sliding_window=None)


def tiny(config, **over):
    c = dict(config)
    c.update(over)
    return c


TINY_MODELS = {
    # name: config (the engine's test shapes: GQA 4 and 8, head_dim 64 and 128, biases, qk-norm, tied)
    "llama-gqa4-hd64": dict(architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=512, hidden_size=256,
                            intermediate_size=512, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=2,
                            head_dim=64, max_position_embeddings=4096, rms_norm_eps=1e-5, rope_theta=10000.0,
                            tie_word_embeddings=False, hidden_act="silu", attention_bias=False, bos_token_id=1,
                            eos_token_id=2),
    "llama3-scaling": dict(architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=512, hidden_size=256,
                           intermediate_size=384, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                           head_dim=64, max_position_embeddings=4096, rms_norm_eps=1e-5, rope_theta=500000.0,
                           rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                             original_max_position_embeddings=64),
                           tie_word_embeddings=False, hidden_act="silu", attention_bias=False, bos_token_id=1,
                           eos_token_id=2),
    "qwen2-bias": dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2", vocab_size=640, hidden_size=256,
                       intermediate_size=512, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                       max_position_embeddings=4096, rms_norm_eps=1e-6, rope_theta=1000000.0,
                       tie_word_embeddings=False, hidden_act="silu", use_sliding_window=False, sliding_window=None,
                       eos_token_id=2),
    "qwen3-qknorm-tied": dict(architectures=["Qwen3ForCausalLM"], model_type="qwen3", vocab_size=768, hidden_size=512,
                              intermediate_size=768, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=1,
                              head_dim=128, max_position_embeddings=4096, rms_norm_eps=1e-6, rope_theta=1000000.0,
                              tie_word_embeddings=True, hidden_act="silu", attention_bias=False,
                              use_sliding_window=False, sliding_window=None, eos_token_id=2),
}


def build_random_model(config_dict, device, dtype, seed):
    """A transformers model of random weights from a config dict, built on `device` in `dtype`."""
    import torch
    import transformers
    config = transformers.AutoConfig.for_model(**config_dict)
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = transformers.AutoModelForCausalLM.from_config(config)
    finally:
        torch.set_default_dtype(previous)
    model = model.to(dtype)  # a no-op unless from_config chose the config's dtype over the default
    model.eval()
    # Norm weights near 1 and small random biases (a fresh model has ones and zeros), so the
    # comparisons exercise them.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * (torch.rand_like(p, dtype=torch.float32) * 2 - 1))
            elif name.endswith(".bias"):
                p.copy_(0.1 * (torch.rand_like(p, dtype=torch.float32) * 2 - 1))
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    return model


# ---------------------------------------------------------------------------------------------

def cmd_tiny_models(args):
    import torch
    from safetensors.torch import save_file
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for i, (name, cfg) in enumerate(TINY_MODELS.items()):
        d = out / name
        d.mkdir(exist_ok=True)
        model = build_random_model(cfg, "cuda" if torch.cuda.is_available() else "cpu", torch.bfloat16, 1000 + i)
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        if cfg.get("tie_word_embeddings"):
            state.pop("lm_head.weight", None)  # shared with the embedding; the engine ties by the config
        save_file({k: v.cpu() for k, v in state.items()}, str(d / "model.safetensors"))
        (d / "config.json").write_text(json.dumps(dict(cfg, torch_dtype="bfloat16"), indent=1))
        # The reference: the same BF16 weights, computed in float32 (eager attention).
        ref = model.float()
        prompts = [[(7 + 131 * j + 17 * p) % cfg["vocab_size"] for j in range(n)] for p, n in enumerate((5, 37, 300))]
        logits = []
        with torch.no_grad():
            for ids in prompts:
                x = torch.tensor([ids], device=ref.device)
                logits.append(ref(x).logits[0].float().cpu().tolist())
        (d / "hf-logits.json").write_text(json.dumps(dict(
            produced_by=f"scripts/gpu/hf_baseline.py tiny-models, transformers {__import__('transformers').__version__}, "
                        f"torch {torch.__version__}, BF16 weights computed in float32",
            prompts=prompts, logits=logits)))
        names.append(name)
        print(f"tiny-models: {name}", file=sys.stderr)
    (out / "models.txt").write_text("\n".join(names) + "\n")


def timed_generate(model, input_ids, attention_mask, new_tokens):
    import torch
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.no_grad():
        model.generate(input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=new_tokens,
                       min_new_tokens=new_tokens, do_sample=False, pad_token_id=0)
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def random_ids(gen, batch, length, vocab):
    import torch
    return torch.randint(10, vocab, (batch, length), generator=gen).cuda()


def cmd_bench(args):
    import torch
    import transformers
    result = dict(transformers=transformers.__version__, torch=torch.__version__,
                  device=torch.cuda.get_device_name(0), attn_implementation="default (sdpa)", dtype="bfloat16")
    gen = torch.Generator().manual_seed(0)

    llama_cfg = llama3_8b_config()
    qwen_cfg = qwen3_0_6b_config()
    if args.tiny:
        llama_cfg = tiny(llama_cfg, vocab_size=4096, hidden_size=512, intermediate_size=1024, num_hidden_layers=2,
                         num_attention_heads=8, num_key_value_heads=2)
        qwen_cfg = tiny(qwen_cfg, vocab_size=4096, num_hidden_layers=2)

    t0 = time.perf_counter()
    model = build_random_model(llama_cfg, "cuda", torch.bfloat16, 1)
    result["llama3_8b_shape"] = dict(build_s=time.perf_counter() - t0)
    # batch-1 decode: 128-token prompt, 256 new tokens; decode rate from (256 new) - (1 new).
    ids = random_ids(gen, 1, 128, llama_cfg["vocab_size"])
    mask = torch.ones_like(ids)
    timed_generate(model, ids, mask, 8)  # warm-up
    t_first = timed_generate(model, ids, mask, 1)
    t_all = timed_generate(model, ids, mask, 257)
    result["llama3_8b_shape"]["decode_batch1"] = dict(
        decode_tokens_per_s=256 / (t_all - t_first), elapsed_s=t_all, prefill_and_first_token_s=t_first)
    print(f"hf decode: {result['llama3_8b_shape']['decode_batch1']}", file=sys.stderr)
    # offline 256 + 256, in batches of --batch.
    n, batch = args.llama_requests, args.batch
    t_total = 0.0
    for start in range(0, n, batch):
        b = min(batch, n - start)
        ids = random_ids(gen, b, 256, llama_cfg["vocab_size"])
        t_total += timed_generate(model, ids, torch.ones_like(ids), 256)
    result["llama3_8b_shape"]["offline_256_256"] = dict(
        requests=n, batch=batch, elapsed_s=t_total, output_tokens_per_s=n * 256 / t_total,
        total_tokens_per_s=n * 512 / t_total)
    print(f"hf llama offline: {result['llama3_8b_shape']['offline_256_256']}", file=sys.stderr)
    del model
    torch.cuda.empty_cache()

    model = build_random_model(qwen_cfg, "cuda", torch.bfloat16, 2)
    n = args.qwen3_requests
    ins = [request_length(1000 + i, 100, 1024) for i in range(n)]
    outs = [request_length(5000 + i, 100, 1024) for i in range(n)]
    t_total = 0.0
    for start in range(0, n, batch):
        idx = list(range(start, min(n, start + batch)))
        width = max(ins[i] for i in idx)
        ids = torch.zeros((len(idx), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, i in enumerate(idx):  # left padding, as HF generate wants for decoder-only models
            ids[row, width - ins[i]:] = torch.randint(10, qwen_cfg["vocab_size"], (ins[i],), generator=gen)
            mask[row, width - ins[i]:] = 1
        # Static batching: the batch runs until its longest output; only each request's own
        # output length counts as produced.
        t_total += timed_generate(model, ids.cuda(), mask.cuda(), max(outs[i] for i in idx))
    result["qwen3_0_6b_shape"] = dict(offline_100_1024=dict(
        requests=n, batch=batch, elapsed_s=t_total, output_tokens=sum(outs), prompt_tokens=sum(ins),
        output_tokens_per_s=sum(outs) / t_total))
    print(f"hf qwen3 offline: {result['qwen3_0_6b_shape']['offline_100_1024']}", file=sys.stderr)
    Path(args.out).write_text(json.dumps(result, indent=2))


def cmd_combine(args):
    engine = json.loads(Path(args.engine).read_text())
    hf = json.loads(Path(args.hf).read_text())
    out = dict(engine_device=engine.get("device"), hf_device=hf.get("device"))

    def ratio(path, key):
        try:
            e, h = engine, hf
            for p in path:
                e, h = e[p], h[p]
            return dict(engine=e[key], hf=h[key], speedup=e[key] / h[key])
        except (KeyError, TypeError, ZeroDivisionError) as ex:
            return dict(missing=str(ex))

    out["decode_batch1_llama3_8b"] = ratio(["llama3_8b_shape", "decode_batch1"], "decode_tokens_per_s")
    out["decode_roofline_ratio"] = engine.get("llama3_8b_shape", {}).get("decode_batch1", {}).get("decode_roofline_ratio")
    out["offline_llama3_8b_output"] = ratio(["llama3_8b_shape", "offline_256_256"], "output_tokens_per_s")
    out["offline_llama3_8b_total"] = ratio(["llama3_8b_shape", "offline_256_256"], "total_tokens_per_s")
    out["offline_qwen3_0_6b_output"] = ratio(["qwen3_0_6b_shape", "offline_100_1024"], "output_tokens_per_s")
    out["copy_bandwidth"] = engine.get("copy_bandwidth")
    out["gemm_bf16_tflops"] = engine.get("gemm_bf16_tflops")
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


def cmd_golden_compare(args):
    before, after = Path(args.before), Path(args.after)
    rows = []
    ok = True
    for golden in sorted(after.glob("*/golden.json")):
        name = golden.parent.name
        new = json.loads(golden.read_text())
        old_path = before / name / "golden.json"
        if not old_path.exists():
            rows.append(dict(fixture=name, error="no committed fixture"))
            ok = False
            continue
        old = json.loads(old_path.read_text())
        worst = 0.0
        for a, b in zip(old["logits"], new["logits"]):
            for ra, rb in zip(a, b):
                worst = max(worst, max(abs(x - y) for x, y in zip(ra, rb)))
        passed = worst <= old["tolerance"] and old["prompts"] == new["prompts"]
        ok = ok and passed
        rows.append({"fixture": name, "worst_abs_diff": worst, "tolerance": old["tolerance"],
                     "same_prompts": old["prompts"] == new["prompts"], "pass": passed,
                     "hf_produced_by": new["produced_by"]})
    Path(args.out).write_text(json.dumps(dict(all_pass=ok, fixtures=rows), indent=2))
    print(json.dumps(dict(all_pass=ok, n=len(rows))))
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("tiny-models")
    p.add_argument("dir")
    p = sub.add_parser("bench")
    p.add_argument("--out", required=True)
    p.add_argument("--llama-requests", type=int, default=256)
    p.add_argument("--qwen3-requests", type=int, default=256)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--tiny", action="store_true")
    p = sub.add_parser("combine")
    p.add_argument("--engine", required=True)
    p.add_argument("--hf", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("golden-compare")
    p.add_argument("--before", required=True)
    p.add_argument("--after", required=True)
    p.add_argument("--out", required=True)
    args = parser.parse_args()
    rc = dict(tiny_models=cmd_tiny_models, bench=cmd_bench, combine=cmd_combine,
              golden_compare=cmd_golden_compare)[args.cmd.replace("-", "_")](args)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
