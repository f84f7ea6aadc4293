// Native flash attention (native/attention.cc): arguments go positionally, defaults filled here.
import type { AttentionArgs, Kernels } from '../../core/backend.js';
import type { F32 } from '../../core/dtype.js';
import { addon } from './addon.js';

export const attentionKernels: Pick<Kernels, 'attentionForward' | 'attentionBackward'> = {
  attentionForward(out: F32, lse: F32 | null, q: F32, k: F32, v: F32, a: AttentionArgs): void {
    addon.attentionForward(out, lse, q, k, v, a.B, a.Tq, a.Tk, a.H, a.Hkv, a.D,
      a.kvCap ?? a.Tk, a.scale ?? 1 / Math.sqrt(a.D), a.causal ?? false);
  },
  attentionBackward(dq: F32, dk: F32, dv: F32, dout: F32, q: F32, k: F32, v: F32, out: F32, lse: F32, a: AttentionArgs): void {
    addon.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, a.B, a.Tq, a.Tk, a.H, a.Hkv, a.D,
      a.kvCap ?? a.Tk, a.scale ?? 1 / Math.sqrt(a.D), a.causal ?? false);
  },
};
