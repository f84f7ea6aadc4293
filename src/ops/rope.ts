// Rotary position embedding, HF rotate-half layout, on x [B,T,H·D] at positions pos0 .. pos0+T-1.
import { kernels } from '../core/runtime.js';
import { Tensor } from '../core/tensor.js';
import { gradOf, needsGrad, record } from '../core/autograd.js';
import { OpError } from '../core/errors.js';

export interface RopeTables { cos: Float32Array; sin: Float32Array; maxT: number; D: number }

/**
 * cos/sin tables [maxT, D/2] of the angles t·θ^(−2i/D). 'f32' angles (default) round inv_freq and
 * t·inv_freq to f32 as HF's LlamaRotaryEmbedding does, so checkpoints see the positions they were
 * trained with; 'f64' keeps the exact angles.
 */
export function ropeTables(maxT: number, D: number, theta = 10000, angles: 'f32' | 'f64' = 'f32'): RopeTables {
  if (!Number.isSafeInteger(maxT) || maxT < 0) throw new OpError('ropeTables', `maxT must be a non-negative integer, got ${maxT}`);
  if (!Number.isSafeInteger(D) || D < 2 || D % 2 !== 0) throw new OpError('ropeTables', `D must be a positive even number, got ${D}`);
  if (!(theta > 0) || !Number.isFinite(theta)) throw new OpError('ropeTables', `theta must be a finite positive number, got ${theta}`);
  const half = D / 2;
  const round = angles === 'f32' ? Math.fround : (x: number) => x;
  const cos = new Float32Array(maxT * half), sin = new Float32Array(maxT * half);
  for (let i = 0; i < half; i++) {
    const invFreq = round(1 / Math.pow(theta, (2 * i) / D));
    for (let t = 0; t < maxT; t++) {
      const a = round(t * invFreq);
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  }
  return { cos, sin, maxT, D };
}

/** x is [B, T, heads·D] (a projection's output, heads contiguous per token) */
export function rope(x: Tensor, heads: number, tables: RopeTables, pos0 = 0): Tensor {
  if (x.shape.length !== 3 || x.shape[2] % heads !== 0) throw new OpError('rope', `input ${x.describe()} must be [B,T,${heads}·D]`);
  const [B, T] = x.shape;
  const H = heads, D = x.shape[2] / heads;
  if (D !== tables.D) throw new OpError('rope', `head dim ${D} does not match the tables (${tables.D})`);
  if (pos0 + T > tables.maxT) throw new OpError('rope', `positions up to ${pos0 + T} exceed the table length ${tables.maxT}`);
  const out = Tensor.empty(x.shape);
  kernels().ropeForward(out.f32, x.f32, tables.cos, tables.sin, B, T, H, D, pos0);
  if (needsGrad(x)) {
    record({
      op: 'rope', outputs: [out],
      backward() { kernels().ropeBackward(gradOf(x).f32, out.grad!.f32, tables.cos, tables.sin, B, T, H, D, pos0); },
    });
  }
  return out;
}
