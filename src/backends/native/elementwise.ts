import type { Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

void addon;

export const elementwiseKernels: Pick<Kernels, 'add' | 'addInto' | 'scale' | 'copyStrided' | 'firstNonFinite'> = {
  add() { throw new Error('native.add: not implemented yet'); },
  addInto() { throw new Error('native.addInto: not implemented yet'); },
  scale() { throw new Error('native.scale: not implemented yet'); },
  copyStrided() { throw new Error('native.copyStrided: not implemented yet'); },
  firstNonFinite() { throw new Error('native.firstNonFinite: not implemented yet'); },
};
