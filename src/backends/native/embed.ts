import type { Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

void addon;

export const embedKernels: Pick<Kernels, 'embeddingForward' | 'embeddingBackward'> = {
  embeddingForward() { throw new Error('native.embeddingForward: not implemented yet'); },
  embeddingBackward() { throw new Error('native.embeddingBackward: not implemented yet'); },
};
