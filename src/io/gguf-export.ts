// A model (+ its tokenizer) → a GGUF file llama.cpp runs as architecture `llama`. Norm weights stay
// F32 (as llama.cpp's converter keeps 1-D tensors); matrices take the requested type, quantized with
// ggml's exact rounding (the native kernel, tested equal to io/ggml-quants.ts); q_proj/k_proj rows are
// permuted to llama.cpp's RoPE layout.
import { basename } from 'node:path';
import { GGML, GgufError } from './gguf.js';
import { writeGguf, type TensorToWrite } from './gguf-write.js';
import { FILE_TYPE, ggufName, llamaKv, permuteRopeRows, ropeHeads } from './gguf-llama.js';
import { byteTokenizer, tokenizerKv, type TokenizerKvOptions } from './gguf-tokenizer.js';
import { QK, Q4_0_BYTES, Q8_0_BYTES } from './ggml-quants.js';
import { toF32 } from './gguf-weights.js';
import { kernels } from '../core/runtime.js';
import { headDim, type ModelConfig } from '../nn/config.js';
import { DeepSeekLM } from '../nn/deepseek.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { WeightSource } from '../infer/weight-source.js';
import { ModuleWeightSource } from '../infer/model-source.js';

export type ExportType = keyof typeof FILE_TYPE;
export const EXPORT_TYPES: ExportType[] = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'];

const GGML_OF: Record<ExportType, number> = { f32: GGML.F32, f16: GGML.F16, bf16: GGML.BF16, q8_0: GGML.Q8_0, q4_0: GGML.Q4_0 };

export interface ExportOptions extends TokenizerKvOptions {
  type?: ExportType;
  /** default: dsllm's byte-level vocabulary (bytes 0–255, EOS 256) */
  tokenizer?: Tokenizer;
  /** general.name; default the file name */
  name?: string;
}

export interface ExportReport {
  path: string;
  tensors: number;
  bytes: number;
  /** matrices written as F16 because their rows are not a multiple of the 32-element block */
  fallbacks: string[];
}

/** f32 values → bytes of a ggml type (block formats with ggml's rounding) */
export function encodeAs(type: number, x: Float32Array): Uint8Array {
  switch (type) {
    case GGML.F32: return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
    case GGML.F16: { const u = new Uint16Array(x.length); kernels().f32ToF16(u, x, x.length); return new Uint8Array(u.buffer); }
    case GGML.BF16: { const u = new Uint16Array(x.length); kernels().f32ToBf16(u, x, x.length); return new Uint8Array(u.buffer); }
    case GGML.Q8_0: case GGML.Q4_0: {
      const fmt = type === GGML.Q8_0 ? 'q8_0' : 'q4_0';
      const out = new Uint8Array((x.length / QK) * (type === GGML.Q8_0 ? Q8_0_BYTES : Q4_0_BYTES));
      kernels().quantize(out, x, fmt, x.length);
      return out;
    }
  }
  throw new GgufError(`GGUF export: ggml type ${type} is not an export type`, { code: 'E_GGUF_WRITE' });
}

const SAME: Record<string, number> = { f32: GGML.F32, f16: GGML.F16, bf16: GGML.BF16, q8_0: GGML.Q8_0, q4_0: GGML.Q4_0 };

/** the weights llama.cpp's `llama` architecture reads, in HF order */
function exportNames(c: ModelConfig, have: Set<string>): string[] {
  const out = ['model.embed_tokens.weight'];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    for (const p of ['input_layernorm', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj',
      'post_attention_layernorm', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']) out.push(`model.layers.${i}.${p}.weight`);
  }
  out.push('model.norm.weight');
  // a tied head is not stored: llama.cpp then uses token_embd for the output
  if (have.has('lm_head.weight') && !c.tie_word_embeddings) out.push('lm_head.weight');
  return out;
}

/**
 * Writes a model to `path` as GGUF (atomically), one tensor at a time: from an in-memory DeepSeekLM or
 * any WeightSource (an HF directory, another GGUF file) without holding the model in memory.
 */
export function exportGguf(model: DeepSeekLM | WeightSource, path: string, opts: ExportOptions = {}): ExportReport {
  const src: WeightSource = model instanceof DeepSeekLM ? new ModuleWeightSource(model) : model;
  const c = src.config;
  const type = opts.type ?? 'f32';
  if (!(type in FILE_TYPE)) throw new GgufError(`GGUF export: type ${JSON.stringify(type)} is not one of ${EXPORT_TYPES.join(', ')}`, { code: 'E_GGUF_WRITE' });
  const tok = opts.tokenizer ?? byteTokenizer(c.vocab_size);
  const D = headDim(c);
  const have = new Set(src.names());
  const fallbacks: string[] = [];
  const tensors: TensorToWrite[] = [];
  let bytes = 0;
  for (const name of exportNames(c, have)) {
    if (!have.has(name)) throw new GgufError(`GGUF export: ${src.origin} has no weight ${name}`, { code: 'E_GGUF_WRITE' });
    const g = ggufName(name)!;
    const shape = expectedShape(name, c);
    let t = shape.length === 1 ? GGML.F32 : GGML_OF[type];
    if ((t === GGML.Q8_0 || t === GGML.Q4_0) && shape[shape.length - 1] % QK !== 0) { t = GGML.F16; fallbacks.push(g); }
    const heads = ropeHeads(name, c);
    tensors.push({
      name: g, ne: [...shape].reverse(), type: t,
      data: () => {
        const w = src.get(name);
        if (w.shape.join() !== shape.join()) throw new GgufError(`GGUF export: ${src.origin}: ${name} has shape [${w.shape}], the config needs [${shape}]`, { code: 'E_GGUF_WRITE' });
        // a tensor already in the target type passes through untouched (no double rounding)
        let b = SAME[w.dtype] === t ? w.bytes : encodeAs(t, toF32(w));
        if (heads) b = permuteRopeRows(b, heads, D, b.byteLength / (heads * D), true);
        bytes += b.byteLength;
        return b;
      },
    });
  }
  const kvs = [...llamaKv(c, opts.name ?? basename(path).replace(/\.gguf$/i, ''), FILE_TYPE[type]), ...tokenizerKv(tok, c.vocab_size, opts)];
  writeGguf(path, kvs, tensors);
  src.close?.();
  return { path, tensors: tensors.length, bytes, fallbacks };
}

/** HF shape of a weight under config c */
function expectedShape(name: string, c: ModelConfig): number[] {
  const d = c.hidden_size, D = headDim(c);
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return [c.vocab_size, d];
  if (name.endsWith('norm.weight')) return [d];
  if (name.endsWith('q_proj.weight')) return [c.num_attention_heads * D, d];
  if (name.endsWith('k_proj.weight') || name.endsWith('v_proj.weight')) return [c.num_key_value_heads * D, d];
  if (name.endsWith('o_proj.weight')) return [d, c.num_attention_heads * D];
  if (name.endsWith('down_proj.weight')) return [d, c.intermediate_size];
  return [c.intermediate_size, d];
}
