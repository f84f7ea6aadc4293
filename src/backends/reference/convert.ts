import type { Kernels } from '../../core/backend.js';

export const convertKernels: Pick<Kernels, 'f32ToBf16' | 'bf16ToF32' | 'f32ToF16' | 'f16ToF32'> = {
  f32ToBf16() { throw new Error('reference.f32ToBf16: not implemented yet'); },
  bf16ToF32() { throw new Error('reference.bf16ToF32: not implemented yet'); },
  f32ToF16() { throw new Error('reference.f32ToF16: not implemented yet'); },
  f16ToF32() { throw new Error('reference.f16ToF32: not implemented yet'); },
};
