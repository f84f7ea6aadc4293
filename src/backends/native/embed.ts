// Token embedding through the addon (native/embed.cc validates every argument, every id included).
import type { Kernels } from '../../core/backend.js';
import type { F32, FloatData, I32 } from '../../core/dtype.js';
import { addon } from './addon.js';

export const embedKernels: Pick<Kernels, 'embeddingForward' | 'embeddingBackward'> = {
  embeddingForward(out: F32, ids: I32, table: FloatData, N: number, C: number, V: number): void {
    addon.embeddingForward(out, ids, table, N, C, V);
  },
  embeddingBackward(dtable: F32, dout: F32, ids: I32, N: number, C: number, V: number): void {
    addon.embeddingBackward(dtable, dout, ids, N, C, V);
  },
};
