import type { Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

void addon;

export const normKernels: Pick<Kernels, 'rmsnormForward' | 'rmsnormBackward'> = {
  rmsnormForward() { throw new Error('native.rmsnormForward: not implemented yet'); },
  rmsnormBackward() { throw new Error('native.rmsnormBackward: not implemented yet'); },
};
