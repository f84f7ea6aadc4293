// A model shape for a target FLOPs/token: the (n_layer, d_model) whose paper M is closest to the
// target, with heads, KV heads and FFN width chosen the way the released models are built
// (head_dim 128 from 8 heads up, GQA with 8 KV heads past 32 heads, FFN = 8/3·d rounded up to 256).
import { validateConfig, type ModelConfig } from '../nn/config.js';
import { paperM } from './flops.js';

export interface ShapeOptions {
  vocab: number;
  seqLen: number;
  /** allowed head dimensions (default 64, 128) */
  headDims?: number[];
  /** FFN width rounded up to a multiple of this (default 256) */
  ffnMultiple?: number;
  /** allowed d_model / n_layer (default 32 … 256: Table 3 and the released models span 43 … 136) */
  aspect?: [number, number];
  /** preferred d_model / n_layer among shapes whose M is within 1% of the best (default 100) */
  targetAspect?: number;
  maxLayers?: number;
  maxDModel?: number;
}

export interface Shape { n_layer: number; d_model: number; M: number; config: ModelConfig }

export class ShapeError extends Error {
  constructor(msg: string) { super(msg); this.name = 'ShapeError'; }
}

/**
 * heads for d_model: the largest allowed head_dim leaving ≥ 8 heads, else the smallest that divides;
 * past 32 heads the count must be a multiple of 8 (8 KV heads, as 67B)
 */
function heads(d: number, headDims: number[]): { headDim: number; heads: number } | null {
  const fits = [...headDims].sort((a, b) => a - b).filter((h) => d % h === 0 && (d / h <= 32 || (d / h) % 8 === 0));
  if (!fits.length) return null;
  const big = fits.filter((h) => d / h >= 8);
  const hd = big.length ? big[big.length - 1] : fits[0];
  return { headDim: hd, heads: d / hd };
}

export function shapeConfig(nLayer: number, dModel: number, o: ShapeOptions): ModelConfig {
  const h = heads(dModel, o.headDims ?? [64, 128]);
  if (!h) throw new ShapeError(`d_model ${dModel} is not a multiple of any head_dim in ${(o.headDims ?? [64, 128]).join(', ')}`);
  const mult = o.ffnMultiple ?? 256;
  return validateConfig({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu',
    vocab_size: o.vocab, hidden_size: dModel, intermediate_size: Math.ceil((8 * dModel) / 3 / mult) * mult,
    num_hidden_layers: nLayer, num_attention_heads: h.heads, num_key_value_heads: h.heads > 32 ? 8 : h.heads,
    head_dim: h.headDim, max_position_embeddings: o.seqLen, rms_norm_eps: 1e-6, rope_theta: 10000,
    tie_word_embeddings: false, initializer_range: 0.006, dsllm: { seq_len: o.seqLen },
  }, `shape ${nLayer}×${dModel}`);
}

/** every (n_layer, d_model) the constraints allow, near the target M (two layer counts per width) */
export function searchShape(targetM: number, o: ShapeOptions): Shape {
  if (!(targetM > 0)) throw new ShapeError(`target FLOPs/token must be > 0, got ${targetM}`);
  const hds = o.headDims ?? [64, 128];
  const step = Math.min(...hds);
  const [arLo, arHi] = o.aspect ?? [32, 256];
  const maxL = o.maxLayers ?? 256, maxD = o.maxDModel ?? 32768;
  const cands: { n: number; d: number; M: number; err: number }[] = [];
  for (let d = step; d <= maxD; d += step) {
    if (!heads(d, hds)) continue;
    const perLayer = paperM(1, d, o.seqLen);
    const nf = targetM / perLayer;
    for (const n of new Set([Math.floor(nf), Math.ceil(nf)])) {
      if (n < 1 || n > maxL) continue;
      const ar = d / n;
      if (ar < arLo || ar > arHi) continue;
      const M = paperM(n, d, o.seqLen);
      cands.push({ n, d, M, err: Math.abs(Math.log(M / targetM)) });
    }
  }
  if (!cands.length) {
    // below the smallest allowed shape: the smallest one (one layer of the narrowest width)
    const M = paperM(1, step, o.seqLen);
    if (targetM < M) return { n_layer: 1, d_model: step, M, config: shapeConfig(1, step, o) };
    throw new ShapeError(`no shape with ${arLo} ≤ d_model/n_layer ≤ ${arHi}, ≤ ${maxL} layers and d_model ≤ ${maxD} reaches M = ${targetM.toExponential(3)}`);
  }
  const best = Math.min(...cands.map((c) => c.err));
  const target = Math.log(o.targetAspect ?? 100);
  const near = cands.filter((c) => c.err <= best + 0.01);
  near.sort((p, q) => Math.abs(Math.log(p.d / p.n) - target) - Math.abs(Math.log(q.d / q.n) - target) || p.err - q.err);
  const c = near[0];
  return { n_layer: c.n, d_model: c.d, M: c.M, config: shapeConfig(c.n, c.d, o) };
}
