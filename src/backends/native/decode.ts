// Native inference-only kernels: f32 weights packed once for the blocked GEMM's micro-kernel
// (native/gemm_prepacked.cc) and the batched decode-attention step (native/attention_decode.cc).
import type { DecodeAttentionArgs, Kernels, PackedWeights } from '../../core/backend.js';
import type { F32, I32 } from '../../core/dtype.js';
import { addon } from './addon.js';

const nr: number = addon.gemmCaps().nr;

export const decodeKernels: Pick<Kernels, 'prepackWeights' | 'matmulPrepacked' | 'decodeAttention'> = {
  prepackWeights(w: F32, n: number, k: number): PackedWeights {
    // 15 spare floats: the panels start at the first 64-byte aligned element, which the addon picks
    const buf = new Float32Array(Math.ceil(n / nr) * nr * k + 15);
    const offset: number = addon.packWeights(buf, w, n, k);
    return { n, k, data: buf.subarray(offset) };
  },
  matmulPrepacked(y: F32, x: F32, w: PackedWeights, m: number): void {
    addon.gemmPrepacked(y, x, w.data, m, w.n, w.k);
  },
  decodeAttention(out: F32, q: F32, kNew: F32, vNew: F32, kCaches: F32[], vCaches: F32[], rows: I32, pos: I32,
    cos: F32, sin: F32, a: DecodeAttentionArgs): void {
    addon.decodeAttention(out, q, kNew, vNew, kCaches, vCaches, rows, pos, cos, sin, a.H, a.Hkv, a.D, a.scale ?? 1 / Math.sqrt(a.D));
  },
};
