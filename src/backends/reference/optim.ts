// Reference AdamW and squared norm. AdamW emulates torch's f32 tensor ops one by one (Math.fround
// after every operation, scalars formed in f64 then cast to f32), so native differs only where it
// fuses a multiply-add.
import type { Kernels } from '../../core/backend.js';
import type { F32, U16 } from '../../core/dtype.js';
import { f32BitsToBf16 } from './convert.js';

function fail(op: string, msg: string): never { throw new Error(`reference.${op}: ${msg}`); }

function checkF32(op: string, name: string, x: unknown, n: number): void {
  if (!(x instanceof Float32Array)) fail(op, `argument '${name}' must be a Float32Array`);
  if (x.length < n) fail(op, `argument '${name}' holds ${x.length} elements, needs ${n}`);
}

function checkNum(name: string, x: number, ok: boolean, what: string): void {
  if (typeof x !== 'number' || !ok) fail('adamw', `argument '${name}' must be ${what}, got ${x}`);
}

const f = Math.fround;

export const optimKernels: Pick<Kernels, 'adamw' | 'sumSquares'> = {
  adamw(param: F32, grad: F32, m: F32, v: F32, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, step: number, gradScale: number, paramBf16: U16 | null): void {
    if (!Number.isSafeInteger(n) || n < 0) fail('adamw', `argument 'n' must be a non-negative integer, got ${n}`);
    checkF32('adamw', 'param', param, n); checkF32('adamw', 'grad', grad, n);
    checkF32('adamw', 'm', m, n); checkF32('adamw', 'v', v, n);
    if (paramBf16 !== null && paramBf16 !== undefined) {
      if (!(paramBf16 instanceof Uint16Array)) fail('adamw', `argument 'paramBf16' must be a Uint16Array or null`);
      if (paramBf16.length < n) fail('adamw', `argument 'paramBf16' holds ${paramBf16.length} elements, needs ${n}`);
    }
    checkNum('lr', lr, lr >= 0 && Number.isFinite(lr), 'finite and >= 0');
    checkNum('beta1', beta1, beta1 >= 0 && beta1 < 1, 'in [0, 1)');
    checkNum('beta2', beta2, beta2 >= 0 && beta2 < 1, 'in [0, 1)');
    checkNum('eps', eps, eps >= 0 && Number.isFinite(eps), 'finite and >= 0');
    checkNum('weightDecay', weightDecay, weightDecay >= 0 && Number.isFinite(weightDecay), 'finite and >= 0');
    checkNum('step', step, Number.isSafeInteger(step) && step >= 1, 'an integer >= 1');
    checkNum('gradScale', gradScale, Number.isFinite(gradScale), 'finite');

    // torch: param.mul_(1 − lr·wd); exp_avg.lerp_(grad, 1 − β1);
    //        exp_avg_sq.mul_(β2).addcmul_(grad, grad, value = 1 − β2);
    //        denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps);
    //        param.addcdiv_(exp_avg, denom, value = −lr / bias_correction1)
    const decay = f(1 - lr * weightDecay);
    const omb1 = f(1 - beta1), b2 = f(beta2), omb2 = f(1 - beta2);
    const bc2sqrt = f(Math.sqrt(1 - beta2 ** step));
    const negStep = f(-(lr / (1 - beta1 ** step)));
    const epsF = f(eps), gs = f(gradScale);
    const pBits = new Uint32Array(param.buffer, param.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const g = f(grad[i] * gs);
      const p = f(param[i] * decay);
      const mi = f(m[i] + f(omb1 * f(g - m[i])));  // lerp for weight < 0.5: self + weight·(end − self)
      const vi = f(f(v[i] * b2) + f(omb2 * f(g * g)));
      const denom = f(f(Math.sqrt(vi) / bc2sqrt) + epsF);
      m[i] = mi; v[i] = vi;
      param[i] = f(p + f(negStep * f(mi / denom)));
      if (paramBf16) paramBf16[i] = f32BitsToBf16(pBits[i]);
    }
  },

  sumSquares(x: F32, n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) fail('sumSquares', `argument 'n' must be a non-negative integer, got ${n}`);
    checkF32('sumSquares', 'x', x, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return s;
  },
};
