// Native float conversions (native/convert.cc): thin positional calls, the addon validates.
import type { Kernels } from '../../core/backend.js';
import type { F32, U16 } from '../../core/dtype.js';
import { addon } from './addon.js';

export const convertKernels: Pick<Kernels, 'f32ToBf16' | 'bf16ToF32' | 'f32ToF16' | 'f16ToF32'> = {
  f32ToBf16(out: U16, x: F32, n: number): void { addon.f32ToBf16(out, x, n); },
  bf16ToF32(out: F32, x: U16, n: number): void { addon.bf16ToF32(out, x, n); },
  f32ToF16(out: U16, x: F32, n: number): void { addon.f32ToF16(out, x, n); },
  f16ToF32(out: F32, x: U16, n: number): void { addon.f16ToF32(out, x, n); },
};
