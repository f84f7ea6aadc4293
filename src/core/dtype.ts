// Element types. bf16 and f16 are stored as raw 16-bit patterns in Uint16Array; i32 holds token ids.
// Int8/int4 block formats (Q8_0, Q4_0) will be storage-only dtypes read by quantized kernels.
export type DType = 'f32' | 'bf16' | 'f16' | 'i32';

export const DTYPE_BYTES: Record<DType, number> = { f32: 4, bf16: 2, f16: 2, i32: 4 };

export type F32 = Float32Array;
/** bf16 or f16 bit patterns */
export type U16 = Uint16Array;
export type I32 = Int32Array;
/** A float buffer in f32 or bf16 storage. */
export type FloatData = Float32Array | Uint16Array;
export type AnyData = Float32Array | Uint16Array | Int32Array;

export function isDType(s: string): s is DType {
  return s === 'f32' || s === 'bf16' || s === 'f16' || s === 'i32';
}

export function viewOf(dtype: DType, buf: ArrayBuffer, offsetElems: number, length: number): AnyData {
  const off = offsetElems * DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'f32': return new Float32Array(buf, off, length);
    case 'bf16': case 'f16': return new Uint16Array(buf, off, length);
    case 'i32': return new Int32Array(buf, off, length);
  }
}
