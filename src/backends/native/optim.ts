import type { Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

void addon;

export const optimKernels: Pick<Kernels, 'adamw' | 'sumSquares'> = {
  adamw() { throw new Error('native.adamw: not implemented yet'); },
  sumSquares() { throw new Error('native.sumSquares: not implemented yet'); },
};
