// RMSNorm, the plain way. Forward: ggml's f32 scale and rounding order (bit for bit what
// native/norm.cc and llama.cpp compute); backward: f64 row statistics and products, rounded to f32
// only on store.
import type { Kernels } from '../../core/backend.js';
import type { F32, FloatData } from '../../core/dtype.js';
import { fail, size, f32 } from './check.js';

/** the weight as f64 numbers, from f32 or bf16 (Uint16Array bit patterns) storage */
function weight(op: string, w: unknown, C: number): Float64Array {
  if (!(w instanceof Float32Array) && !(w instanceof Uint16Array)) {
    fail(op, `argument 'w' must be a Float32Array (f32) or Uint16Array (bf16)`);
  }
  if (w.length < C) fail(op, `argument 'w' holds ${w.length} elements, needs at least ${C}`);
  const out = new Float64Array(C);
  if (w instanceof Float32Array) {
    for (let i = 0; i < C; i++) out[i] = w[i];
  } else {
    const bits = new Uint32Array(1), f = new Float32Array(bits.buffer);
    for (let i = 0; i < C; i++) { bits[0] = w[i] << 16; out[i] = f[0]; }
  }
  return out;
}

export const normKernels: Pick<Kernels, 'rmsnormForward' | 'rmsnormBackward'> = {
  rmsnormForward(out: F32, rstd: F32 | null, x: F32, w: FloatData, N: number, C: number, eps: number): void {
    const op = 'rmsnormForward';
    size(op, 'N', N); size(op, 'C', C);
    if (C < 1) fail(op, 'C must be at least 1');
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) fail(op, 'eps must be a finite number >= 0');
    f32(op, 'out', out, N * C);
    if (rstd !== null) f32(op, 'rstd', rstd, N);
    f32(op, 'x', x, N * C);
    const wv = weight(op, w, C);
    for (let n = 0; n < N; n++) {
      // ggml's scale (native/norm.cc): f32 squares summed in f64, the mean rounded to f32, then
      // 1/sqrtf(mean + eps) in f32 (f64 sqrt and division rounded to f32 are the f32 operations)
      let ss = 0;
      for (let i = 0; i < C; i++) ss += Math.fround(x[n * C + i] * x[n * C + i]);
      const fr = Math.fround;
      const r = fr(1 / fr(Math.sqrt(fr(fr(ss / C) + fr(eps)))));
      if (rstd !== null) rstd[n] = r;
      for (let i = 0; i < C; i++) out[n * C + i] = fr(fr(x[n * C + i] * r) * wv[i]);
    }
  },

  // y_j = x_j·r·w_j with r = (mean(x²) + eps)^(−1/2), so ∂r/∂x_j = −r³·x_j/C and
  //   dx_j = r·w_j·dout_j − x_j·(r³/C)·Σ_i dout_i·w_i·x_i,   dw_j = Σ_rows dout_j·x_j·r.
  rmsnormBackward(dx: F32, dw: F32, dout: F32, x: F32, w: FloatData, rstd: F32, N: number, C: number): void {
    const op = 'rmsnormBackward';
    size(op, 'N', N); size(op, 'C', C);
    if (C < 1) fail(op, 'C must be at least 1');
    f32(op, 'dx', dx, N * C);
    f32(op, 'dw', dw, C);
    f32(op, 'dout', dout, N * C);
    f32(op, 'x', x, N * C);
    const wv = weight(op, w, C);
    f32(op, 'rstd', rstd, N);
    const dwAcc = new Float64Array(C);
    for (let n = 0; n < N; n++) {
      const r = rstd[n];
      let dot = 0;
      for (let i = 0; i < C; i++) dot += dout[n * C + i] * wv[i] * x[n * C + i];
      const k = (r * r * r * dot) / C;
      for (let i = 0; i < C; i++) {
        const j = n * C + i;
        dx[j] += r * wv[i] * dout[j] - k * x[j];
        dwAcc[i] += dout[j] * x[j] * r;
      }
    }
    for (let i = 0; i < C; i++) dw[i] += dwAcc[i];
  },
};
