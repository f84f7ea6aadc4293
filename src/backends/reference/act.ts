// SwiGLU, the plain way, in f64: out = silu(gate)·up with silu(g) = g·σ(g).
import type { Kernels } from '../../core/backend.js';
import type { F32 } from '../../core/dtype.js';
import { fail, size, f32 } from './check.js';


/** σ(g), without exp overflow at large |g| */
function sigmoid(g: number): number {
  if (g >= 0) return 1 / (1 + Math.exp(-g));
  const e = Math.exp(g);
  return e / (1 + e);
}

export const actKernels: Pick<Kernels, 'swigluForward' | 'swigluBackward'> = {
  swigluForward(out: F32, gate: F32, up: F32, n: number): void {
    const op = 'swigluForward';
    size(op, 'n', n);
    f32(op, 'out', out, n); f32(op, 'gate', gate, n); f32(op, 'up', up, n);
    for (let i = 0; i < n; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
  },

  // d silu/dg = σ + g·σ·(1−σ) = σ·(1 + g·(1−σ))
  swigluBackward(dgate: F32, dup: F32, dout: F32, gate: F32, up: F32, n: number): void {
    const op = 'swigluBackward';
    size(op, 'n', n);
    f32(op, 'dgate', dgate, n); f32(op, 'dup', dup, n); f32(op, 'dout', dout, n);
    f32(op, 'gate', gate, n); f32(op, 'up', up, n);
    for (let i = 0; i < n; i++) {
      const g = gate[i], s = sigmoid(g);
      dgate[i] += dout[i] * up[i] * s * (1 + g * (1 - s));
      dup[i] += dout[i] * g * s;
    }
  },
};
