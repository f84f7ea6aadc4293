// Plain softmax attention in f64, the oracle for the native flash kernels: for every query row the
// whole score row is built, softmaxed and applied, exactly as the definition reads.
import type { AttentionArgs, Kernels } from '../../core/backend.js';
import type { F32 } from '../../core/dtype.js';

interface Resolved { B: number; Tq: number; Tk: number; H: number; Hkv: number; D: number; kvCap: number; scale: number; causal: boolean }

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1;
}

function resolve(op: string, a: AttentionArgs): Resolved {
  for (const name of ['B', 'Tq', 'Tk', 'H', 'Hkv', 'D'] as const) {
    if (!isCount(a[name])) throw new Error(`reference.${op}: argument '${name}' must be a positive integer, got ${a[name]}`);
  }
  const kvCap = a.kvCap ?? a.Tk;
  if (!isCount(kvCap)) throw new Error(`reference.${op}: argument 'kvCap' must be a positive integer, got ${kvCap}`);
  if (a.H % a.Hkv !== 0) throw new Error(`reference.${op}: H (${a.H}) must be a multiple of Hkv (${a.Hkv})`);
  if (a.Tk < a.Tq) throw new Error(`reference.${op}: Tk (${a.Tk}) must be at least Tq (${a.Tq})`);
  if (kvCap < a.Tk) throw new Error(`reference.${op}: kvCap (${kvCap}) must be at least Tk (${a.Tk})`);
  const scale = a.scale ?? 1 / Math.sqrt(a.D);
  if (!Number.isFinite(scale)) throw new Error(`reference.${op}: scale must be finite`);
  return { B: a.B, Tq: a.Tq, Tk: a.Tk, H: a.H, Hkv: a.Hkv, D: a.D, kvCap, scale, causal: a.causal ?? false };
}

function need(op: string, name: string, x: F32 | null, n: number): void {
  if (!(x instanceof Float32Array)) throw new Error(`reference.${op}: argument '${name}' must be a Float32Array`);
  if (x.length < n) throw new Error(`reference.${op}: argument '${name}' holds ${x.length} elements, needs at least ${n}`);
}

/** Softmax probabilities of query row (b, i, h) over its visible keys (f64); returns them and lse. */
function probs(s: Resolved, q: F32, k: F32, b: number, i: number, h: number): { p: Float64Array; lse: number } {
  const { Tq, Tk, H, Hkv, D, kvCap, scale } = s;
  const kh = Math.floor(h / (H / Hkv));
  const n = s.causal ? Tk - Tq + i + 1 : Tk;  // query i sits at position Tk − Tq + i
  const p = new Float64Array(n);
  const qo = ((b * Tq + i) * H + h) * D;
  let max = -Infinity;
  for (let j = 0; j < n; j++) {
    const ko = ((b * kvCap + j) * Hkv + kh) * D;
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
    p[j] = dot * scale;
    max = Math.max(max, p[j]);
  }
  let sum = 0;
  for (let j = 0; j < n; j++) { p[j] = Math.exp(p[j] - max); sum += p[j]; }
  for (let j = 0; j < n; j++) p[j] /= sum;
  return { p, lse: max + Math.log(sum) };
}

export const attentionKernels: Pick<Kernels, 'attentionForward' | 'attentionBackward'> = {
  attentionForward(out, lse, q, k, v, args) {
    const op = 'attentionForward';
    const s = resolve(op, args);
    const { B, Tq, H, Hkv, D, kvCap } = s;
    const nq = B * Tq * H * D, nkv = B * kvCap * Hkv * D;
    need(op, 'out', out, nq);
    if (lse != null) need(op, 'lse', lse, B * H * Tq);  // null (or undefined) in inference
    need(op, 'q', q, nq); need(op, 'k', k, nkv); need(op, 'v', v, nkv);
    const acc = new Float64Array(D);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / (H / Hkv));
      for (let i = 0; i < Tq; i++) {
        const { p, lse: l } = probs(s, q, k, b, i, h);
        acc.fill(0);
        for (let j = 0; j < p.length; j++) {
          const vo = ((b * kvCap + j) * Hkv + kh) * D;
          for (let d = 0; d < D; d++) acc[d] += p[j] * v[vo + d];
        }
        out.set(acc, ((b * Tq + i) * H + h) * D);
        if (lse) lse[(b * H + h) * Tq + i] = l;
      }
    }
  },

  // Recomputes the probabilities from q and k (out and lse are only checked for size), so it is
  // an independent check of the native kernel, which relies on them.
  attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, args) {
    const op = 'attentionBackward';
    const s = resolve(op, args);
    const { B, Tq, H, Hkv, D, kvCap, scale } = s;
    const nq = B * Tq * H * D, nkv = B * kvCap * Hkv * D;
    need(op, 'dq', dq, nq); need(op, 'dk', dk, nkv); need(op, 'dv', dv, nkv); need(op, 'dout', dout, nq);
    need(op, 'q', q, nq); need(op, 'k', k, nkv); need(op, 'v', v, nkv); need(op, 'out', out, nq);
    need(op, 'lse', lse, B * H * Tq);
    const gq = new Float64Array(nq), gk = new Float64Array(nkv), gv = new Float64Array(nkv);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / (H / Hkv));
      for (let i = 0; i < Tq; i++) {
        const { p } = probs(s, q, k, b, i, h);
        const qo = ((b * Tq + i) * H + h) * D;
        const dp = new Float64Array(p.length);
        let dsum = 0;  // Σ_j p_j dp_j
        for (let j = 0; j < p.length; j++) {
          const ko = ((b * kvCap + j) * Hkv + kh) * D;
          let dot = 0;
          for (let d = 0; d < D; d++) { dot += dout[qo + d] * v[ko + d]; gv[ko + d] += p[j] * dout[qo + d]; }
          dp[j] = dot;
          dsum += p[j] * dot;
        }
        for (let j = 0; j < p.length; j++) {
          const ko = ((b * kvCap + j) * Hkv + kh) * D;
          const ds = p[j] * (dp[j] - dsum) * scale;  // d loss / d (q·k_j)
          for (let d = 0; d < D; d++) { gq[qo + d] += ds * k[ko + d]; gk[ko + d] += ds * q[qo + d]; }
        }
      }
    }
    for (let e = 0; e < nq; e++) dq[e] += gq[e];
    for (let e = 0; e < nkv; e++) { dk[e] += gk[e]; dv[e] += gv[e]; }
  },
};
