// Native softmax cross-entropy (native/loss.cc): a thin positional call, the addon validates.
import type { Kernels } from '../../core/backend.js';
import type { F32, I32 } from '../../core/dtype.js';
import { addon } from './addon.js';

export const lossKernels: Pick<Kernels, 'crossEntropy'> = {
  crossEntropy(losses: F32, dlogits: F32 | null, logits: F32, targets: I32, N: number, V: number, ignoreIndex: number, gradScale: number): void {
    addon.crossEntropy(losses, dlogits, logits, targets, N, V, ignoreIndex, gradScale);
  },
};
