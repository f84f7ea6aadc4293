// RMSNorm over the last dim (pre-norm, eps 1e-6 in DeepSeek LLM): y = x / sqrt(mean(x²) + eps) · w.
// Forward saves rstd (one float per row) for the backward.
import { kernels } from '../core/runtime.js';
import { Tensor } from '../core/tensor.js';
import { gradOf, needsGrad, record } from '../core/autograd.js';
import { OpError } from '../core/errors.js';

export function rmsnorm(x: Tensor, w: Tensor, eps: number): Tensor {
  const C = w.numel;
  if (x.shape[x.shape.length - 1] !== C) throw new OpError('rmsnorm', `input ${x.describe()} does not match weight ${w.describe()}`);
  const N = x.numel / C;
  const out = Tensor.empty(x.shape);
  const grad = needsGrad(x, w);
  const rstd = grad ? Tensor.empty([N]) : null;
  kernels().rmsnormForward(out.f32, rstd ? rstd.f32 : null, x.f32, w.data as Float32Array | Uint16Array, N, C, eps);
  if (grad) {
    record({
      op: 'rmsnorm', outputs: [out],
      backward() {
        // dx is needed even when x is the embedding output (it requires grad through the table)
        const dx = x.requiresGrad ? gradOf(x).f32 : new Float32Array(x.numel);
        const dw = w.requiresGrad ? gradOf(w).f32 : new Float32Array(C);
        kernels().rmsnormBackward(dx, dw, out.grad!.f32, x.f32, w.data as Float32Array, rstd!.f32, N, C);
      },
    });
  }
  return out;
}
