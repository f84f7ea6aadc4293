// Causal self-attention core (after the projections and RoPE): flash-style kernels that never hold
// the T×T score matrix; GQA when k/v have fewer heads than q. Saves out and the per-row
// log-sum-exp so the backward recomputes probabilities tile by tile.
import { kernels } from '../core/runtime.js';
import { Tensor } from '../core/tensor.js';
import { gradOf, needsGrad, record } from '../core/autograd.js';
import { OpError } from '../core/errors.js';
import type { AttentionArgs } from '../core/backend.js';

/** q [B,T,H·D], k and v [B,T,Hkv·D] (projection outputs, heads contiguous per token) → [B,T,H·D] */
export function attention(q: Tensor, k: Tensor, v: Tensor, H: number, Hkv: number, causal = true): Tensor {
  if (q.shape.length !== 3 || k.shape.length !== 3 || v.shape.length !== 3) {
    throw new OpError('attention', `q ${q.describe()}, k ${k.describe()}, v ${v.describe()} must be [B,T,heads·D]`);
  }
  if (H % Hkv !== 0) throw new OpError('attention', `kv heads (${Hkv}) must divide query heads (${H})`);
  const [B, T] = q.shape;
  const D = q.shape[2] / H;
  if (!Number.isInteger(D) || k.shape[0] !== B || k.shape[1] !== T || k.shape[2] !== Hkv * D || v.shape.join() !== k.shape.join()) {
    throw new OpError('attention', `q ${q.describe()}, k ${k.describe()}, v ${v.describe()} do not fit ${H} query heads and ${Hkv} kv heads`);
  }
  const args: AttentionArgs = { B, Tq: T, Tk: T, H, Hkv, D, causal };
  const out = Tensor.empty(q.shape);
  const grad = needsGrad(q, k, v);
  const lse = grad ? Tensor.empty([B, H, T]) : null;
  kernels().attentionForward(out.f32, lse ? lse.f32 : null, q.f32, k.f32, v.f32, args);
  if (grad) {
    record({
      op: 'attention', outputs: [out],
      backward() {
        kernels().attentionBackward(gradOf(q).f32, gradOf(k).f32, gradOf(v).f32, out.grad!.f32,
          q.f32, k.f32, v.f32, out.f32, lse!.f32, args);
      },
    });
  }
  return out;
}
