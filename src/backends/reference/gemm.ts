import type { Kernels } from '../../core/backend.js';

export const gemmKernels: Pick<Kernels, 'gemm'> = {
  gemm() { throw new Error('reference.gemm: not implemented yet'); },
};
