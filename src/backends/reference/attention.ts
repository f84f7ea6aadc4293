import type { Kernels } from '../../core/backend.js';

export const attentionKernels: Pick<Kernels, 'attentionForward' | 'attentionBackward'> = {
  attentionForward() { throw new Error('reference.attentionForward: not implemented yet'); },
  attentionBackward() { throw new Error('reference.attentionBackward: not implemented yet'); },
};
