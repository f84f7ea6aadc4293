// SwiGLU through the addon (native/act.cc validates every argument).
import type { Kernels } from '../../core/backend.js';
import type { F32 } from '../../core/dtype.js';
import { addon } from './addon.js';

export const actKernels: Pick<Kernels, 'swigluForward' | 'swigluBackward'> = {
  swigluForward(out: F32, gate: F32, up: F32, n: number): void {
    addon.swigluForward(out, gate, up, n);
  },
  swigluBackward(dgate: F32, dup: F32, dout: F32, gate: F32, up: F32, n: number): void {
    addon.swigluBackward(dgate, dup, dout, gate, up, n);
  },
};
