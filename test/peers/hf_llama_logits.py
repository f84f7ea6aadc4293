#!/usr/bin/env python3
"""Hugging Face transformers as the independent reference for dsllm's HF-format support.

  run  --model DIR --ids "1 2 3" --new N
       Loads DIR (config.json + safetensors, single or sharded) with AutoModelForCausalLM in float32
       with eager attention, continues the ids greedily for N tokens using transformers' KV cache, then
       recomputes the whole sequence (prompt + generated[:-1]) in one uncached forward. Prints one JSON
       line: {"generated": [...], "logits": [[V floats] per position], "transformers": ..., "torch": ...}.
       Floats are float32 values printed exactly (Python repr of the widened value).

  make --out DIR --config JSON --seed S [--dtype float32|bfloat16] [--max-shard-size 200KB] [--norm-noise X]
       A randomly initialized LlamaForCausalLM (transformers' own initializer, initializer_range from the
       config), its RMSNorm weights moved off 1.0 by X·N(0,1) so that loading them is checked too, saved
       with save_pretrained (safetensors; sharded with model.safetensors.index.json above the shard size).
       Prints one JSON line: {"files": [...], "config": {...as written...}}.
"""
import argparse
import json
import os
import sys


def load_dtype_kw(torch):
    # transformers >= 5 names it `dtype`; 4.x `torch_dtype` (and warns on `dtype`)
    import transformers
    major = int(transformers.__version__.split('.')[0])
    return {'dtype': torch.float32} if major >= 5 else {'torch_dtype': torch.float32}


def cmd_run(a):
    import torch
    import transformers
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(a.model, attn_implementation='eager', **load_dtype_kw(torch))
    model.eval()
    prompt = [int(x) for x in a.ids.split()]
    with torch.no_grad():
        out = model(torch.tensor([prompt]), use_cache=True)
        past = out.past_key_values
        generated = []
        nxt = int(out.logits[0, -1].argmax())
        while True:
            generated.append(nxt)
            if len(generated) == a.new:
                break
            out = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
            past = out.past_key_values
            nxt = int(out.logits[0, -1].argmax())
        full = model(torch.tensor([prompt + generated[:-1]]), use_cache=False).logits[0]
    assert full.dtype == torch.float32, full.dtype
    print(json.dumps({
        'generated': generated,
        'logits': full.tolist(),
        'transformers': transformers.__version__,
        'torch': torch.__version__,
    }))


def cmd_make(a):
    import torch
    import transformers
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(a.seed)
    cfg = LlamaConfig(**json.loads(a.config))
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('norm.weight'):
                p.add_(a.norm_noise * torch.randn_like(p))
    if a.dtype == 'bfloat16':
        model = model.to(torch.bfloat16)
    kw = {'max_shard_size': a.max_shard_size} if a.max_shard_size else {}
    model.save_pretrained(a.out, **kw)
    with open(os.path.join(a.out, 'config.json')) as f:
        written = json.load(f)
    print(json.dumps({'files': sorted(os.listdir(a.out)), 'config': written, 'transformers': transformers.__version__}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run')
    r.add_argument('--model', required=True)
    r.add_argument('--ids', required=True, help='prompt token ids, space-separated')
    r.add_argument('--new', type=int, default=64, help='greedy tokens to generate (>= 1)')
    m = sub.add_parser('make')
    m.add_argument('--out', required=True)
    m.add_argument('--config', required=True, help='LlamaConfig keyword arguments as JSON')
    m.add_argument('--seed', type=int, default=0)
    m.add_argument('--dtype', choices=['float32', 'bfloat16'], default='float32')
    m.add_argument('--max-shard-size', default=None, help='e.g. 200KB; omitted: one file')
    m.add_argument('--norm-noise', type=float, default=0.1)
    a = ap.parse_args()
    if a.cmd == 'run':
        if a.new < 1:
            ap.error('--new must be >= 1')
        cmd_run(a)
    else:
        cmd_make(a)


if __name__ == '__main__':
    sys.exit(main())
