import type { Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

void addon;

export const convertKernels: Pick<Kernels, 'f32ToBf16' | 'bf16ToF32' | 'f32ToF16' | 'f16ToF32'> = {
  f32ToBf16() { throw new Error('native.f32ToBf16: not implemented yet'); },
  bf16ToF32() { throw new Error('native.bf16ToF32: not implemented yet'); },
  f32ToF16() { throw new Error('native.f32ToF16: not implemented yet'); },
  f16ToF32() { throw new Error('native.f16ToF32: not implemented yet'); },
};
