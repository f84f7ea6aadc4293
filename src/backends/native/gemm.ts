import type { Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

void addon;

export const gemmKernels: Pick<Kernels, 'gemm'> = {
  gemm() { throw new Error('native.gemm: not implemented yet'); },
};
