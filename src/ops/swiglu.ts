// SwiGLU's gate: out = silu(gate) ⊙ up (the two projections are linear ops around it).
import { kernels } from '../core/runtime.js';
import { Tensor } from '../core/tensor.js';
import { gradOf, needsGrad, record } from '../core/autograd.js';
import { OpError } from '../core/errors.js';

export function swiglu(gate: Tensor, up: Tensor): Tensor {
  if (gate.numel !== up.numel) throw new OpError('swiglu', `gate ${gate.describe()} and up ${up.describe()} differ in size`);
  const out = Tensor.empty(gate.shape);
  const n = gate.numel;
  kernels().swigluForward(out.f32, gate.f32, up.f32, n);
  if (needsGrad(gate, up)) {
    record({
      op: 'swiglu', outputs: [out],
      backward() { kernels().swigluBackward(gradOf(gate).f32, gradOf(up).f32, out.grad!.f32, gate.f32, up.f32, n); },
    });
  }
  return out;
}
