// A GGUF model as a source of HF-named weights: names mapped back (token_embd → model.embed_tokens …),
// shapes in HF order ([out, in]), Wq/Wk rows un-permuted to the rotate-half layout. Quantized blocks
// (Q8_0, Q4_0) pass through as stored — a row permutation moves whole rows of blocks — for the
// quantized kernels; `toF32` dequantizes for the f32 path. `loadGgufModel` builds a DeepSeekLM.
import { GGML, GgufError, readGguf, readGgufTensor, type GgufFile } from './gguf.js';
import { hfName, llamaConfig, permuteRopeRows, ropeHeads } from './gguf-llama.js';
import { bf16BitsToF32, dequantizeQ4_0, dequantizeQ8_0, f16BitsToF32 } from './ggml-quants.js';
import { headDim, type ModelConfig } from '../nn/config.js';
import { DeepSeekLM } from '../nn/deepseek.js';
import type { RawWeight, WeightDType, WeightSource } from '../infer/weight-source.js';

const DTYPE_OF: Record<number, WeightDType> = { [GGML.F32]: 'f32', [GGML.F16]: 'f16', [GGML.BF16]: 'bf16', [GGML.Q8_0]: 'q8_0', [GGML.Q4_0]: 'q4_0' };

export class GgufWeightSource implements WeightSource {
  readonly config: ModelConfig;
  readonly file: GgufFile;
  readonly origin: string;
  private readonly ggufOf = new Map<string, string>();

  constructor(pathOrFile: string | GgufFile) {
    this.file = typeof pathOrFile === 'string' ? readGguf(pathOrFile) : pathOrFile;
    this.config = llamaConfig(this.file);
    this.origin = this.file.path;
    for (const t of this.file.tensors) {
      const hf = hfName(t.name);
      // llama.cpp files may carry extras (rope_freqs, …); the ones a LLaMA forward needs are checked below
      if (hf) this.ggufOf.set(hf, t.name);
    }
    const c = this.config;
    const need = ['model.embed_tokens.weight', 'model.norm.weight'];
    for (let i = 0; i < c.num_hidden_layers; i++) {
      for (const p of ['input_layernorm', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj',
        'post_attention_layernorm', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']) need.push(`model.layers.${i}.${p}.weight`);
    }
    for (const n of need) {
      if (!this.ggufOf.has(n)) throw new GgufError(`${this.file.path}: tensor for ${n} is missing`, { code: 'E_GGUF_TENSOR' });
    }
  }

  /** HF names of the weights, in file order */
  names(): string[] {
    return [...this.ggufOf.keys()];
  }

  get(name: string): RawWeight {
    const g = this.ggufOf.get(name);
    if (!g) throw new GgufError(`${this.file.path}: no weight ${name}`, { code: 'E_GGUF_TENSOR' });
    const t = this.file.byName.get(g)!;
    const dtype = DTYPE_OF[t.type];
    if (!dtype) {
      throw new GgufError(`${this.file.path}: tensor ${g} is ${t.typeName}; supported: F32, F16, BF16, Q8_0, Q4_0`, { code: 'E_GGUF_TYPE', hint: 'requantize it with llama-quantize to one of these' });
    }
    const shape = [...t.ne].reverse();
    let bytes = readGgufTensor(this.file, g);
    const heads = ropeHeads(name, this.config);
    if (heads) bytes = permuteRopeRows(bytes, heads, headDim(this.config), bytes.byteLength / shape[0], false);
    return { dtype, shape, bytes };
  }
}

/** A weight's values in f32 (dequantized / widened). */
export function toF32(w: RawWeight, out?: Float32Array): Float32Array {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const o = out ?? new Float32Array(n);
  if (o.length !== n) throw new RangeError(`toF32: output of ${o.length} for ${n} elements`);
  switch (w.dtype) {
    case 'f32': o.set(new Float32Array(w.bytes.buffer.slice(w.bytes.byteOffset, w.bytes.byteOffset + w.bytes.byteLength))); return o;
    case 'f16': case 'bf16': {
      const u = new Uint16Array(w.bytes.buffer.slice(w.bytes.byteOffset, w.bytes.byteOffset + w.bytes.byteLength));
      const f = w.dtype === 'f16' ? f16BitsToF32 : bf16BitsToF32;
      for (let i = 0; i < n; i++) o[i] = f(u[i]);
      return o;
    }
    case 'q8_0': return dequantizeQ8_0(w.bytes, o);
    case 'q4_0': return dequantizeQ4_0(w.bytes, o);
  }
}

/** Loads a GGUF model into a DeepSeekLM with f32 weights (quantized ones dequantized). */
export function loadGgufModel(path: string): DeepSeekLM {
  const src = new GgufWeightSource(path);
  const model = new DeepSeekLM(src.config, { seed: 0 });
  for (const [name, p] of model.namedParameters()) {
    const w = src.get(name);
    if (w.shape.join() !== p.shape.join()) throw new GgufError(`${path}: ${name} has shape [${w.shape}], the config needs [${p.shape}]`, { code: 'E_GGUF_TENSOR' });
    toF32(w, p.f32);
  }
  return model;
}
