import type { Kernels } from '../../core/backend.js';

export const actKernels: Pick<Kernels, 'swigluForward' | 'swigluBackward'> = {
  swigluForward() { throw new Error('reference.swigluForward: not implemented yet'); },
  swigluBackward() { throw new Error('reference.swigluBackward: not implemented yet'); },
};
