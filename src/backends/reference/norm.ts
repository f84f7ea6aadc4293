import type { Kernels } from '../../core/backend.js';

export const normKernels: Pick<Kernels, 'rmsnormForward' | 'rmsnormBackward'> = {
  rmsnormForward() { throw new Error('reference.rmsnormForward: not implemented yet'); },
  rmsnormBackward() { throw new Error('reference.rmsnormBackward: not implemented yet'); },
};
