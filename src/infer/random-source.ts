// A WeightSource of random weights for a configuration, generated tensor by tensor on request (so a
// 1B-shaped model never exists in f32 unless asked for): benchmarks and tests that need model shapes,
// not a trained model. Each tensor depends only on the seed and its name (the same in any order).
// Matrices are uniform with the given std (speed matters, the distribution's shape does not); norm
// weights are 1.
import { headDim, validateConfig, type ModelConfig } from '../nn/config.js';
import { Rng } from '../util/rng.js';
import { ModelLoadError } from './errors.js';
import type { RawWeight, WeightSource } from './weight-source.js';

export class RandomWeightSource implements WeightSource {
  readonly config: ModelConfig;
  readonly origin: string;
  private readonly shapes = new Map<string, number[]>();

  constructor(config: ModelConfig, readonly seed = 1, readonly std = 0.02) {
    const c = (this.config = validateConfig(config));
    this.origin = `random weights (seed ${seed})`;
    const d = c.hidden_size, hd = headDim(c), F = c.intermediate_size;
    this.shapes.set('model.embed_tokens.weight', [c.vocab_size, d]);
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const p = `model.layers.${i}`;
      this.shapes.set(`${p}.input_layernorm.weight`, [d]);
      this.shapes.set(`${p}.self_attn.q_proj.weight`, [c.num_attention_heads * hd, d]);
      this.shapes.set(`${p}.self_attn.k_proj.weight`, [c.num_key_value_heads * hd, d]);
      this.shapes.set(`${p}.self_attn.v_proj.weight`, [c.num_key_value_heads * hd, d]);
      this.shapes.set(`${p}.self_attn.o_proj.weight`, [d, c.num_attention_heads * hd]);
      this.shapes.set(`${p}.post_attention_layernorm.weight`, [d]);
      this.shapes.set(`${p}.mlp.gate_proj.weight`, [F, d]);
      this.shapes.set(`${p}.mlp.up_proj.weight`, [F, d]);
      this.shapes.set(`${p}.mlp.down_proj.weight`, [d, F]);
    }
    this.shapes.set('model.norm.weight', [d]);
    if (!c.tie_word_embeddings) this.shapes.set('lm_head.weight', [c.vocab_size, d]);
  }

  names(): string[] { return [...this.shapes.keys()]; }

  get(name: string): RawWeight {
    const shape = this.shapes.get(name);
    if (!shape) throw new ModelLoadError(this.origin, `no tensor named "${name}"`);
    const n = shape.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n);
    if (shape.length === 1) x.fill(1);
    else {
      let h = 2166136261;
      for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
      const rng = new Rng(BigInt(this.seed) * 4294967296n + BigInt(h));
      const a = this.std * Math.sqrt(3) * 2 / 4294967296;
      const half = this.std * Math.sqrt(3);
      for (let i = 0; i < n; i++) x[i] = rng.nextU32() * a - half;
    }
    return { dtype: 'f32', shape: [...shape], bytes: new Uint8Array(x.buffer) };
  }
}
