// Reference float conversions, bit by bit. Values are read through a Uint32Array view of the f32
// buffer, never through JS numbers, so NaN payloads survive (V8 may canonicalize a NaN it touches).
import type { Kernels } from '../../core/backend.js';
import type { F32, U16 } from '../../core/dtype.js';

function check(op: string, out: ArrayLike<number>, outType: 'f32' | 'u16', x: ArrayLike<number>, n: number): void {
  const isF32 = (a: unknown) => a instanceof Float32Array;
  const isU16 = (a: unknown) => a instanceof Uint16Array;
  if (outType === 'f32' ? !isF32(out) : !isU16(out)) throw new Error(`reference.${op}: argument 'out' must be a ${outType === 'f32' ? 'Float32Array' : 'Uint16Array'}`);
  if (outType === 'f32' ? !isU16(x) : !isF32(x)) throw new Error(`reference.${op}: argument 'x' must be a ${outType === 'f32' ? 'Uint16Array' : 'Float32Array'}`);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`reference.${op}: argument 'n' must be a non-negative integer, got ${n}`);
  if (out.length < n) throw new Error(`reference.${op}: argument 'out' holds ${out.length} elements, needs ${n}`);
  if (x.length < n) throw new Error(`reference.${op}: argument 'x' holds ${x.length} elements, needs ${n}`);
}

const bitsOf = (x: F32) => new Uint32Array(x.buffer, x.byteOffset, x.length);

/** round half to even of a non-negative double */
function roundHalfEven(q: number): number {
  const f = Math.floor(q), d = q - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** f32 bits → bf16 bits, as c10::BFloat16: add 0x7fff plus the lowest kept bit, truncate */
export function f32BitsToBf16(u: number): number {
  if ((u & 0x7fffffff) >>> 0 > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;  // NaN → quiet NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 bits → IEEE half bits, round-to-nearest-even, computed on the exact value in f64 */
export function f32BitsToF16(u: number): number {
  const sign = (u >>> 16) & 0x8000, exp = (u >>> 23) & 0xff, mant = u & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7c00 | 0x200 | (mant >>> 13) : sign | 0x7c00;
  const a = exp === 0 ? mant * 2 ** -149 : (1 + mant / 2 ** 23) * 2 ** (exp - 127);  // |x|, exact
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24);  // subnormal half (1024 → smallest normal)
  let e = exp - 127;
  let r = roundHalfEven(a * 2 ** (10 - e));  // in [1024, 2048]
  if (r === 2048) { e++; r = 1024; }
  if (e + 15 >= 31) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | (r - 1024);
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** IEEE half bits → f32 bits (exact); a NaN comes back quiet */
export function f16BitsToF32(h: number): number {
  const sign = (h & 0x8000) << 16, exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
  if (exp === 0x1f) return (mant ? sign | 0x7f800000 | 0x400000 | (mant << 13) : sign | 0x7f800000) >>> 0;
  scratch[0] = exp === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (exp - 15);  // exact in f32
  return (sign | scratchBits[0]) >>> 0;
}

export const convertKernels: Pick<Kernels, 'f32ToBf16' | 'bf16ToF32' | 'f32ToF16' | 'f16ToF32'> = {
  f32ToBf16(out: U16, x: F32, n: number): void {
    check('f32ToBf16', out, 'u16', x, n);
    const u = bitsOf(x);
    for (let i = 0; i < n; i++) out[i] = f32BitsToBf16(u[i]);
  },
  bf16ToF32(out: F32, x: U16, n: number): void {
    check('bf16ToF32', out, 'f32', x, n);
    const o = bitsOf(out);
    for (let i = 0; i < n; i++) o[i] = x[i] << 16;
  },
  f32ToF16(out: U16, x: F32, n: number): void {
    check('f32ToF16', out, 'u16', x, n);
    const u = bitsOf(x);
    for (let i = 0; i < n; i++) out[i] = f32BitsToF16(u[i]);
  },
  f16ToF32(out: F32, x: U16, n: number): void {
    check('f16ToF32', out, 'f32', x, n);
    const o = bitsOf(out);
    for (let i = 0; i < n; i++) o[i] = f16BitsToF32(x[i]);
  },
};
