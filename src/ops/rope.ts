// Rotary position embedding, HF rotate-half layout, on x [B,T,H·D] at positions pos0 .. pos0+T-1.
import { kernels } from '../core/runtime.js';
import { Tensor } from '../core/tensor.js';
import { gradOf, needsGrad, record } from '../core/autograd.js';
import { OpError } from '../core/errors.js';

export interface RopeTables { cos: Float32Array; sin: Float32Array; maxT: number; D: number }

/** cos/sin [maxT, D/2] with inv_freq = θ^(−2i/D), computed in f64 as HF does before casting */
export function ropeTables(maxT: number, D: number, theta = 10000): RopeTables {
  const half = D / 2;
  const cos = new Float32Array(maxT * half), sin = new Float32Array(maxT * half);
  for (let i = 0; i < half; i++) {
    const invFreq = 1 / Math.pow(theta, (2 * i) / D);
    for (let t = 0; t < maxT; t++) {
      // HF computes freqs = t·inv_freq in f32
      const f = Math.fround(t * Math.fround(invFreq));
      cos[t * half + i] = Math.cos(f);
      sin[t * half + i] = Math.sin(f);
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
