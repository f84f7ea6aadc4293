// Native AdamW and squared norm (native/optim.cc): thin positional calls, the addon validates.
import type { Kernels } from '../../core/backend.js';
import type { F32, U16 } from '../../core/dtype.js';
import { addon } from './addon.js';

export const optimKernels: Pick<Kernels, 'adamw' | 'sumSquares'> = {
  adamw(param: F32, grad: F32, m: F32, v: F32, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, step: number, gradScale: number, paramBf16: U16 | null): void {
    addon.adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale, paramBf16);
  },
  sumSquares(x: F32, n: number): number { return addon.sumSquares(x, n) as number; },
};
