// The residual stream: out = a + b; the gradient flows unchanged to both.
import { kernels } from '../core/runtime.js';
import { Tensor } from '../core/tensor.js';
import { gradOf, needsGrad, record } from '../core/autograd.js';
import { OpError } from '../core/errors.js';

export function add(a: Tensor, b: Tensor): Tensor {
  if (a.numel !== b.numel) throw new OpError('add', `${a.describe()} and ${b.describe()} differ in size`);
  const out = Tensor.empty(a.shape);
  kernels().add(out.f32, a.f32, b.f32, a.numel);
  if (needsGrad(a, b)) {
    record({
      op: 'add', outputs: [out],
      backward() {
        const d = out.grad!.f32;
        if (a.requiresGrad) kernels().addInto(gradOf(a).f32, d, a.numel);
        if (b.requiresGrad) kernels().addInto(gradOf(b).f32, d, b.numel);
      },
    });
  }
  return out;
}
