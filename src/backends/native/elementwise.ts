// Native elementwise ops (native/elementwise.cc): thin positional calls, the addon validates.
import type { Kernels } from '../../core/backend.js';
import type { F32 } from '../../core/dtype.js';
import { addon } from './addon.js';

type Data = Float32Array | Uint16Array | Int32Array;

export const elementwiseKernels: Pick<Kernels, 'add' | 'addInto' | 'scale' | 'copyStrided' | 'firstNonFinite'> = {
  add(out: F32, a: F32, b: F32, n: number): void { addon.add(out, a, b, n); },
  addInto(dst: F32, src: F32, n: number): void { addon.addInto(dst, src, n); },
  scale(x: F32, s: number, n: number): void { addon.scale(x, s, n); },
  copyStrided(out: Data, x: Data, shape: number[], strides: number[], offset: number): void {
    addon.copyStrided(out, x, shape, strides, offset);
  },
  firstNonFinite(x: F32, n: number): number { return addon.firstNonFinite(x, n) as number; },
};
