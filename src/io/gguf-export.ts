// DeepSeekLM (+ its tokenizer) → a GGUF file llama.cpp runs as architecture `llama`. Norm weights stay
// F32 (as llama.cpp's converter keeps 1-D tensors); matrices take the requested type, quantized here
// with ggml's exact rounding; q_proj/k_proj rows are permuted to llama.cpp's RoPE layout.
import { basename } from 'node:path';
import { GGML, GgufError } from './gguf.js';
import { writeGguf, type TensorToWrite } from './gguf-write.js';
import { FILE_TYPE, ggufName, llamaKv, permuteRopeRows, ropeHeads } from './gguf-llama.js';
import { byteTokenizer, tokenizerKv, type TokenizerKvOptions } from './gguf-tokenizer.js';
import { quantizeQ4_0, quantizeQ8_0, QK } from './ggml-quants.js';
import { kernels } from '../core/runtime.js';
import { headDim } from '../nn/config.js';
import type { DeepSeekLM } from '../nn/deepseek.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

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

/** f32 values → bytes of a ggml type */
export function encodeAs(type: number, x: Float32Array): Uint8Array {
  switch (type) {
    case GGML.F32: return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
    case GGML.F16: { const u = new Uint16Array(x.length); kernels().f32ToF16(u, x, x.length); return new Uint8Array(u.buffer); }
    case GGML.BF16: { const u = new Uint16Array(x.length); kernels().f32ToBf16(u, x, x.length); return new Uint8Array(u.buffer); }
    case GGML.Q8_0: return quantizeQ8_0(x);
    case GGML.Q4_0: return quantizeQ4_0(x);
  }
  throw new GgufError(`GGUF export: ggml type ${type} is not an export type`, { code: 'E_GGUF_WRITE' });
}

/** Writes `model` to `path` as GGUF (atomically). */
export function exportGguf(model: DeepSeekLM, path: string, opts: ExportOptions = {}): ExportReport {
  const c = model.config;
  const type = opts.type ?? 'f32';
  if (!(type in FILE_TYPE)) throw new GgufError(`GGUF export: type ${JSON.stringify(type)} is not one of ${EXPORT_TYPES.join(', ')}`, { code: 'E_GGUF_WRITE' });
  const tok = opts.tokenizer ?? byteTokenizer(c.vocab_size);
  const D = headDim(c);
  const fallbacks: string[] = [];
  const tensors: TensorToWrite[] = [];
  let bytes = 0;
  for (const [name, p] of model.namedParameters()) {
    const g = ggufName(name);
    if (!g) throw new GgufError(`GGUF export: weight ${name} has no llama.cpp counterpart`, { code: 'E_GGUF_WRITE' });
    let t = p.shape.length === 1 ? GGML.F32 : GGML_OF[type];
    const rowLen = p.shape[p.shape.length - 1];
    if ((t === GGML.Q8_0 || t === GGML.Q4_0) && rowLen % QK !== 0) { t = GGML.F16; fallbacks.push(g); }
    const ne = [...p.shape].reverse();
    const heads = ropeHeads(name, c);
    tensors.push({
      name: g, ne, type: t,
      data: () => {
        let b = encodeAs(t, p.f32);
        if (heads) b = permuteRopeRows(b, heads, D, b.byteLength / (heads * D), true);
        bytes += b.byteLength;
        return b;
      },
    });
  }
  const kvs = [...llamaKv(c, opts.name ?? basename(path).replace(/\.gguf$/i, ''), FILE_TYPE[type]), ...tokenizerKv(tok, c.vocab_size, opts)];
  writeGguf(path, kvs, tensors);
  return { path, tensors: tensors.length, bytes, fallbacks };
}
