// Inference-only kernels, the plain way (f64 sums, f32 stores): matmul on prepacked weights (here the
// "packing" is a row-major copy) and the batched decode-attention step (RoPE, cache write, softmax
// attention per sequence and head). The oracles of native/gemm_prepacked.cc and native/attention_decode.cc.
import type { DecodeAttentionArgs, Kernels, PackedWeights } from '../../core/backend.js';
import type { F32, I32 } from '../../core/dtype.js';
import { fail, size, f32 } from './check.js';

export const decodeKernels: Pick<Kernels, 'prepackWeights' | 'matmulPrepacked' | 'decodeAttention'> = {
  prepackWeights(w: F32, n: number, k: number): PackedWeights {
    size('prepackWeights', 'n', n); size('prepackWeights', 'k', k);
    if (n < 1 || k < 1) fail('prepackWeights', `n and k must be ≥ 1, got ${n}, ${k}`);
    f32('prepackWeights', 'w', w, n * k);
    return { n, k, data: w.slice(0, n * k) };
  },

  matmulPrepacked(y: F32, x: F32, w: PackedWeights, m: number): void {
    const op = 'matmulPrepacked', { n, k } = w;
    size(op, 'm', m);
    f32(op, 'y', y, m * n); f32(op, 'x', x, m * k); f32(op, 'w.data', w.data, n * k);
    for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += x[r * k + t] * w.data[j * k + t];
      y[r * n + j] = acc;
    }
  },

  decodeAttention(out: F32, q: F32, kNew: F32, vNew: F32, kCaches: F32[], vCaches: F32[], rows: I32, pos: I32,
    cos: F32, sin: F32, a: DecodeAttentionArgs): void {
    const op = 'decodeAttention', { H, Hkv, D } = a;
    for (const [nm, v] of [['H', H], ['Hkv', Hkv], ['D', D]] as const) size(op, nm, v);
    if (!(H >= 1 && Hkv >= 1 && H % Hkv === 0)) fail(op, 'H must be a positive multiple of Hkv');
    if (D < 2 || D % 2 !== 0) fail(op, `D must be a positive even number, got ${D}`);
    const scale = a.scale ?? 1 / Math.sqrt(D);
    if (!Number.isFinite(scale)) fail(op, 'scale must be finite');
    const S = rows.length, half = D / 2, ld = Hkv * D, g = H / Hkv;
    if (pos.length !== S) fail(op, 'rows and pos must have the same length (one entry per sequence)');
    if (kCaches.length !== S || vCaches.length !== S) fail(op, `kCaches and vCaches must hold one Float32Array per sequence (${S})`);
    if (new Set(rows).size !== S) fail(op, 'rows must be distinct');
    if (new Set([...kCaches, ...vCaches].map((c) => c.buffer)).size !== 2 * S) fail(op, 'the caches must be distinct buffers');
    const rot = (x: F32, at: number, p: number, o: Float64Array) => {
      for (let i = 0; i < half; i++) {
        const x1 = x[at + i], x2 = x[at + half + i], c = cos[p * half + i], s = sin[p * half + i];
        o[i] = Math.fround(x1 * c - x2 * s);
        o[half + i] = Math.fround(x2 * c + x1 * s);
      }
    };
    const tmp = new Float64Array(D);
    for (let s = 0; s < S; s++) {
      const r = rows[s], p = pos[s];
      if (!(r >= 0 && p >= 0)) fail(op, `rows and pos must be ≥ 0 (sequence ${s})`);
      f32(op, 'out', out, (r + 1) * H * D); f32(op, 'q', q, (r + 1) * H * D);
      f32(op, 'kNew', kNew, (r + 1) * ld); f32(op, 'vNew', vNew, (r + 1) * ld);
      f32(op, 'cos', cos, (p + 1) * half); f32(op, 'sin', sin, (p + 1) * half);
      f32(op, `kCaches[${s}]`, kCaches[s], (p + 1) * ld); f32(op, `vCaches[${s}]`, vCaches[s], (p + 1) * ld);
      const kc = kCaches[s], vc = vCaches[s];
      for (let h = 0; h < Hkv; h++) {
        rot(kNew, r * ld + h * D, p, tmp);
        for (let d = 0; d < D; d++) { kc[p * ld + h * D + d] = tmp[d]; vc[p * ld + h * D + d] = vNew[r * ld + h * D + d]; }
      }
      for (let h = 0; h < H; h++) {
        const hk = Math.floor(h / g);
        rot(q, (r * H + h) * D, p, tmp);
        const sc = new Float64Array(p + 1);
        let mx = -Infinity;
        for (let j = 0; j <= p; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += tmp[d] * kc[j * ld + hk * D + d];
          sc[j] = dot * scale;
          mx = Math.max(mx, sc[j]);
        }
        let sum = 0;
        for (let j = 0; j <= p; j++) { sc[j] = Math.exp(sc[j] - mx); sum += sc[j]; }
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j <= p; j++) acc += sc[j] * vc[j * ld + hk * D + d];
          out[(r * H + h) * D + d] = acc / sum;
        }
      }
    }
  },
};
