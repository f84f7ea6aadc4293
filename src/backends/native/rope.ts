import type { Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

void addon;

export const ropeKernels: Pick<Kernels, 'ropeForward' | 'ropeBackward'> = {
  ropeForward() { throw new Error('native.ropeForward: not implemented yet'); },
  ropeBackward() { throw new Error('native.ropeBackward: not implemented yet'); },
};
