import type { Kernels } from '../../core/backend.js';

export const elementwiseKernels: Pick<Kernels, 'add' | 'addInto' | 'scale' | 'copyStrided' | 'firstNonFinite'> = {
  add() { throw new Error('reference.add: not implemented yet'); },
  addInto() { throw new Error('reference.addInto: not implemented yet'); },
  scale() { throw new Error('reference.scale: not implemented yet'); },
  copyStrided() { throw new Error('reference.copyStrided: not implemented yet'); },
  firstNonFinite() { throw new Error('reference.firstNonFinite: not implemented yet'); },
};
