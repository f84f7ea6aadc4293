// The DeepSeek LLM (LLaMA-style) building blocks: pre-norm decoder layer with RMSNorm, causal
// self-attention with RoPE and GQA, and the SwiGLU MLP. No biases anywhere.
import type { Tensor } from '../core/tensor.js';
import { inLayer } from '../core/errors.js';
import { linear } from '../ops/linear.js';
import { rmsnorm } from '../ops/rmsnorm.js';
import { rope, type RopeTables } from '../ops/rope.js';
import { attention } from '../ops/attention.js';
import { swiglu } from '../ops/swiglu.js';
import { add } from '../ops/add.js';
import { Module, normalInit, onesInit } from './module.js';
import { headDim, type ModelConfig } from './config.js';
import type { Rng } from '../util/rng.js';

export class RMSNorm extends Module {
  readonly weight: Tensor;
  constructor(path: string, dim: number, readonly eps: number) {
    super(path);
    this.weight = this.param('weight', [dim], onesInit);
  }
  forward(x: Tensor): Tensor { return inLayer(this.path, () => rmsnorm(x, this.weight, this.eps)); }
}

export class Attention extends Module {
  readonly q_proj: Tensor; readonly k_proj: Tensor; readonly v_proj: Tensor; readonly o_proj: Tensor;
  readonly H: number; readonly Hkv: number; readonly D: number;
  constructor(path: string, c: ModelConfig, rng: Rng, std: number) {
    super(path);
    this.H = c.num_attention_heads; this.Hkv = c.num_key_value_heads; this.D = headDim(c);
    const d = c.hidden_size, init = normalInit(rng, std);
    this.q_proj = this.param('q_proj.weight', [this.H * this.D, d], init);
    this.k_proj = this.param('k_proj.weight', [this.Hkv * this.D, d], init);
    this.v_proj = this.param('v_proj.weight', [this.Hkv * this.D, d], init);
    this.o_proj = this.param('o_proj.weight', [d, this.H * this.D], init);
  }
  forward(x: Tensor, tables: RopeTables): Tensor {
    return inLayer(this.path, () => {
      const q = rope(linear(x, this.q_proj), this.H, tables);
      const k = rope(linear(x, this.k_proj), this.Hkv, tables);
      const v = linear(x, this.v_proj);
      return linear(attention(q, k, v, this.H, this.Hkv), this.o_proj);
    });
  }
}

export class MLP extends Module {
  readonly gate_proj: Tensor; readonly up_proj: Tensor; readonly down_proj: Tensor;
  constructor(path: string, c: ModelConfig, rng: Rng, std: number) {
    super(path);
    const d = c.hidden_size, f = c.intermediate_size, init = normalInit(rng, std);
    this.gate_proj = this.param('gate_proj.weight', [f, d], init);
    this.up_proj = this.param('up_proj.weight', [f, d], init);
    this.down_proj = this.param('down_proj.weight', [d, f], init);
  }
  forward(x: Tensor): Tensor {
    return inLayer(this.path, () => linear(swiglu(linear(x, this.gate_proj), linear(x, this.up_proj)), this.down_proj));
  }
}

/** h = x + Attn(RMSNorm(x)); out = h + MLP(RMSNorm(h)) */
export class DecoderLayer extends Module {
  readonly input_layernorm: RMSNorm; readonly self_attn: Attention;
  readonly post_attention_layernorm: RMSNorm; readonly mlp: MLP;
  constructor(path: string, c: ModelConfig, rng: Rng, std: number) {
    super(path);
    // creation order fixes the random init order: norm, attention, norm, MLP (HF's module order)
    this.input_layernorm = this.child(new RMSNorm(`${path}.input_layernorm`, c.hidden_size, c.rms_norm_eps));
    this.self_attn = this.child(new Attention(`${path}.self_attn`, c, rng, std));
    this.post_attention_layernorm = this.child(new RMSNorm(`${path}.post_attention_layernorm`, c.hidden_size, c.rms_norm_eps));
    this.mlp = this.child(new MLP(`${path}.mlp`, c, rng, std));
  }
  forward(x: Tensor, tables: RopeTables): Tensor {
    const h = add(x, this.self_attn.forward(this.input_layernorm.forward(x), tables));
    return add(h, this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }
}
