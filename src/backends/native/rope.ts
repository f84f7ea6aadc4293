// RoPE (HF rotate-half) through the addon (native/rope.cc validates every argument).
import type { Kernels } from '../../core/backend.js';
import type { F32 } from '../../core/dtype.js';
import { addon } from './addon.js';

export const ropeKernels: Pick<Kernels, 'ropeForward' | 'ropeBackward'> = {
  ropeForward(out: F32, x: F32, cos: F32, sin: F32, B: number, T: number, H: number, D: number, pos0: number): void {
    addon.ropeForward(out, x, cos, sin, B, T, H, D, pos0);
  },
  ropeBackward(dx: F32, dout: F32, cos: F32, sin: F32, B: number, T: number, H: number, D: number, pos0: number): void {
    addon.ropeBackward(dx, dout, cos, sin, B, T, H, D, pos0);
  },
};
