import type { Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

void addon;

export const attentionKernels: Pick<Kernels, 'attentionForward' | 'attentionBackward'> = {
  attentionForward() { throw new Error('native.attentionForward: not implemented yet'); },
  attentionBackward() { throw new Error('native.attentionBackward: not implemented yet'); },
};
