// RMSNorm through the addon (native/norm.cc validates every argument).
import type { Kernels } from '../../core/backend.js';
import type { F32, FloatData } from '../../core/dtype.js';
import { addon } from './addon.js';

export const normKernels: Pick<Kernels, 'rmsnormForward' | 'rmsnormBackward'> = {
  rmsnormForward(out: F32, rstd: F32 | null, x: F32, w: FloatData, N: number, C: number, eps: number): void {
    addon.rmsnormForward(out, rstd, x, w, N, C, eps);
  },
  rmsnormBackward(dx: F32, dw: F32, dout: F32, x: F32, w: FloatData, rstd: F32, N: number, C: number): void {
    addon.rmsnormBackward(dx, dw, dout, x, w, rstd, N, C);
  },
};
