// RoPE in HF's rotate-half layout, the plain way (f64 products, f32 stores), and the angle tables.
import type { Kernels } from '../../core/backend.js';
import type { F32 } from '../../core/dtype.js';
import { fail, size, f32 } from './check.js';


function check(op: string, o: string, xn: string, out: F32, x: F32, cos: F32, sin: F32,
  B: number, T: number, H: number, D: number, pos0: number): void {
  for (const [k, v] of [['B', B], ['T', T], ['H', H], ['D', D], ['pos0', pos0]] as const) size(op, k, v);
  if (D < 2 || D % 2 !== 0) fail(op, `D must be a positive even number, got ${D}`);
  const total = B * T * H * D, half = D / 2;
  f32(op, o, out, total);
  f32(op, xn, x, total);
  f32(op, 'cos', cos, 0);
  f32(op, 'sin', sin, 0);
  for (const [k, tab] of [['cos', cos], ['sin', sin]] as const) {
    const rows = Math.floor(tab.length / half);
    if (pos0 + T > rows) fail(op, `positions pos0+T = ${pos0 + T} exceed the ${rows} rows of D/2 = ${half} in '${k}'`);
  }
}

export const ropeKernels: Pick<Kernels, 'ropeForward' | 'ropeBackward'> = {
  // out[i] = x[i]·c − x[i+D/2]·s,  out[i+D/2] = x[i+D/2]·c + x[i]·s   (c, s at position pos0 + t)
  ropeForward(out: F32, x: F32, cos: F32, sin: F32, B: number, T: number, H: number, D: number, pos0: number): void {
    check('ropeForward', 'out', 'x', out, x, cos, sin, B, T, H, D, pos0);
    const half = D / 2;
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) {
      const base = ((b * T + t) * H + h) * D, tab = (pos0 + t) * half;
      for (let i = 0; i < half; i++) {
        const x1 = x[base + i], x2 = x[base + half + i], c = cos[tab + i], s = sin[tab + i];
        out[base + i] = x1 * c - x2 * s;
        out[base + half + i] = x2 * c + x1 * s;
      }
    }
  },

  // the transposed rotation, added: dx[i] += g[i]·c + g[i+D/2]·s,  dx[i+D/2] += g[i+D/2]·c − g[i]·s
  ropeBackward(dx: F32, dout: F32, cos: F32, sin: F32, B: number, T: number, H: number, D: number, pos0: number): void {
    check('ropeBackward', 'dx', 'dout', dx, dout, cos, sin, B, T, H, D, pos0);
    const half = D / 2;
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) {
      const base = ((b * T + t) * H + h) * D, tab = (pos0 + t) * half;
      for (let i = 0; i < half; i++) {
        const g1 = dout[base + i], g2 = dout[base + half + i], c = cos[tab + i], s = sin[tab + i];
        dx[base + i] += g1 * c + g2 * s;
        dx[base + half + i] += g2 * c - g1 * s;
      }
    }
  },
};
