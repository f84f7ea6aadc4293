// The LM head and softmax cross-entropy fused over row chunks: logits for a chunk of rows are
// computed, turned into a loss and (when training) into gradients in place, and discarded, so the
// full [N, vocab] logits tensor (the largest activation of a small model) never exists.
// The gradients are produced during the forward (they need the same logits), and the backward
// only hands them on: dh is saved, dW is added into W's gradient at once.
import { kernels } from '../core/runtime.js';
import { Tensor } from '../core/tensor.js';
import { gradOf, needsGrad, record } from '../core/autograd.js';
import { OpError } from '../core/errors.js';
import { computeBf16 } from './precision.js';

export interface LmHeadLossOptions {
  /** targets equal to this are skipped (prompt tokens in SFT, padding); default -100 as HF */
  ignoreIndex?: number;
  /** multiplies the gradients (e.g. 1/gradient-accumulation steps); the returned loss is unscaled */
  gradScale?: number;
  /** bytes of logits per chunk (default 32 MiB) */
  chunkBytes?: number;
  /** receives each row's loss in nats (0 for ignored rows) */
  perToken?: Float32Array;
}

/** mean cross-entropy (nats) of next-token targets given final hidden states h [..., C] and head W [V, C] */
export function lmHeadLoss(h: Tensor, w: Tensor, targets: Tensor, opts: LmHeadLossOptions = {}): Tensor {
  const [V, C] = w.shape;
  if (w.shape.length !== 2 || h.shape[h.shape.length - 1] !== C) throw new OpError('lm_head_loss', `hidden ${h.describe()} does not match head ${w.describe()}`);
  const N = h.numel / C;
  if (targets.dtype !== 'i32' || targets.numel !== N) throw new OpError('lm_head_loss', `targets ${targets.describe()} must be i32 with ${N} elements`);
  if (opts.perToken && opts.perToken.length < N) throw new OpError('lm_head_loss', `perToken holds ${opts.perToken.length} values, needs ${N}`);
  const ignore = opts.ignoreIndex ?? -100;
  const tg = targets.i32;
  let count = 0;
  for (let i = 0; i < N; i++) if (tg[i] !== ignore) count++;
  const grad = needsGrad(h, w) && count > 0;
  const scale = (opts.gradScale ?? 1) / Math.max(count, 1);
  const R = Math.max(1, Math.min(N, Math.floor((opts.chunkBytes ?? 32 << 20) / (4 * V))));
  const k = kernels();
  const bf16 = computeBf16();
  const logits = Tensor.empty([R, V]);
  const losses = new Float32Array(R);
  const dh = grad && h.requiresGrad ? Tensor.empty([N, C]) : null;
  const dw = grad && w.requiresGrad ? gradOf(w).f32 : null;
  const hd = h.f32, wd = w.data as Float32Array | Uint16Array;
  let total = 0;
  for (let r0 = 0; r0 < N; r0 += R) {
    const rows = Math.min(R, N - r0);
    const hRows = hd.subarray(r0 * C, (r0 + rows) * C);
    const lg = logits.f32.subarray(0, rows * V);
    k.gemm({ m: rows, n: V, k: C, a: hRows, b: wd, c: lg, transB: true, bf16 });
    k.crossEntropy(losses, grad ? lg : null, lg, tg.subarray(r0, r0 + rows), rows, V, ignore, scale);
    for (let i = 0; i < rows; i++) total += losses[i];
    if (opts.perToken) opts.perToken.set(losses.subarray(0, rows), r0);
    if (dh) k.gemm({ m: rows, n: C, k: V, a: lg, b: wd, c: dh.f32.subarray(r0 * C, (r0 + rows) * C), bf16 });
    if (dw) k.gemm({ m: V, n: C, k: rows, a: lg, b: hRows, c: dw, transA: true, beta: 1, bf16 });
  }
  logits.dispose();
  const loss = Tensor.from([count ? total / count : 0], [1]);
  if (grad) {
    record({
      op: 'lm_head_loss', outputs: [loss],
      backward() {
        const g = loss.grad!.f32[0];
        if (g !== 1) throw new OpError('lm_head_loss', `upstream gradient ${g} ≠ 1: scale the loss with the gradScale option instead`);
        if (dh) k.addInto(gradOf(h).f32, dh.f32, dh.numel);
      },
    });
  }
  return loss;
}
