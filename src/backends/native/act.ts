import type { Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

void addon;

export const actKernels: Pick<Kernels, 'swigluForward' | 'swigluBackward'> = {
  swigluForward() { throw new Error('native.swigluForward: not implemented yet'); },
  swigluBackward() { throw new Error('native.swigluBackward: not implemented yet'); },
};
