import type { Kernels } from '../../core/backend.js';

export const embedKernels: Pick<Kernels, 'embeddingForward' | 'embeddingBackward'> = {
  embeddingForward() { throw new Error('reference.embeddingForward: not implemented yet'); },
  embeddingBackward() { throw new Error('reference.embeddingBackward: not implemented yet'); },
};
