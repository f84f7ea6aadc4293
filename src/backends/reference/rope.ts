import type { Kernels } from '../../core/backend.js';

export const ropeKernels: Pick<Kernels, 'ropeForward' | 'ropeBackward'> = {
  ropeForward() { throw new Error('reference.ropeForward: not implemented yet'); },
  ropeBackward() { throw new Error('reference.ropeBackward: not implemented yet'); },
};
