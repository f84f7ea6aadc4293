// ggml's block formats in plain TypeScript, bit-exact with ggml's reference code (ggml-quants.c):
//   Q8_0: 32 elements → f16 d · 32 × int8 q          (34 bytes), x ≈ d·q
//         d = amax/127, q = roundf(x·(1/d))
//   Q4_0: 32 elements → f16 d · 16 bytes of nibbles  (18 bytes), x ≈ d·(q − 8)
//         d = max/−8 with max the signed value of largest magnitude, q = min(15, trunc(x·(1/d) + 8.5))
//         (x·(1/d) + 8.5 fused, as ggml's FMA builds and gguf-py compute it);
//         byte j holds element j in its low nibble and element j+16 in its high nibble.
// Every intermediate is rounded to f32 as the C code computes it (Math.fround), so the blocks equal
// the ones llama.cpp's own quantizer writes. f16 and bf16 conversions round to nearest even.
export const QK = 32;
export const Q8_0_BYTES = 34;
export const Q4_0_BYTES = 18;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fr = Math.fround;

/** f32 → IEEE half bits, round to nearest even (as F16C's _cvtss_sh and ggml's reference) */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 | (man >>> 13) : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    man |= 0x800000;
    const shift = 14 - e;
    let h = man >>> shift;
    const rem = man & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent: still right
  return sign | h;
}

/** IEEE half bits → number */
export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** f32 → bf16 bits as ggml_compute_fp32_to_bf16: round to nearest even, NaN kept quiet */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 64) & 0xffff;
  return ((b + (0x7fff + ((b >>> 16) & 1))) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** roundf: half away from zero (x is an f32, so |x| + 0.5 is exact in double) */
function roundf(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

function checkLen(n: number, what: string): void {
  if (n % QK !== 0) throw new RangeError(`${what}: ${n} elements is not a multiple of the block size ${QK}`);
}

/** quantize_row_q8_0_ref over x (length a multiple of 32) */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  checkLen(x.length, 'Q8_0');
  const nb = x.length / QK;
  const out = new Uint8Array(nb * Q8_0_BYTES);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    const base = i * QK, o = i * Q8_0_BYTES;
    let amax = 0;
    for (let j = 0; j < QK; j++) { const a = Math.abs(x[base + j]); if (a > amax) amax = a; }
    const d = fr(amax / 127);
    const id = d ? fr(1 / d) : 0;
    dv.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < QK; j++) dv.setInt8(o + 2 + j, roundf(fr(x[base + j] * id)));
  }
  return out;
}

/** quantize_row_q4_0_ref over x (length a multiple of 32) */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  checkLen(x.length, 'Q4_0');
  const nb = x.length / QK;
  const out = new Uint8Array(nb * Q4_0_BYTES);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    const base = i * QK, o = i * Q4_0_BYTES;
    let amax = 0, max = 0;
    for (let j = 0; j < QK; j++) { const v = x[base + j]; if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; } }
    const d = fr(max / -8);
    const id = d ? fr(1 / d) : 0;
    dv.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < QK / 2; j++) {
      // x·id + 8.5 rounded once to f32, then (int8_t) truncates toward zero. Compilers contract the C
      // expression into an FMA (and gguf-py computes it in f64 for that reason); in double the
      // product of two f32 is exact and so is adding 8.5, so fround gives the FMA's single rounding.
      const q0 = Math.min(15, Math.trunc(fr(x[base + j] * id + 8.5)));
      const q1 = Math.min(15, Math.trunc(fr(x[base + QK / 2 + j] * id + 8.5)));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** dequantize_row_q8_0 */
export function dequantizeQ8_0(blocks: Uint8Array, out: Float32Array = new Float32Array((blocks.length / Q8_0_BYTES) * QK)): Float32Array {
  const nb = blocks.length / Q8_0_BYTES;
  if (!Number.isInteger(nb) || out.length !== nb * QK) throw new RangeError(`Q8_0: ${blocks.length} bytes do not make ${out.length / QK} blocks`);
  const dv = new DataView(blocks.buffer, blocks.byteOffset, blocks.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * Q8_0_BYTES, d = f16BitsToF32(dv.getUint16(o, true));
    for (let j = 0; j < QK; j++) out[i * QK + j] = d * dv.getInt8(o + 2 + j);
  }
  return out;
}

/** dequantize_row_q4_0 */
export function dequantizeQ4_0(blocks: Uint8Array, out: Float32Array = new Float32Array((blocks.length / Q4_0_BYTES) * QK)): Float32Array {
  const nb = blocks.length / Q4_0_BYTES;
  if (!Number.isInteger(nb) || out.length !== nb * QK) throw new RangeError(`Q4_0: ${blocks.length} bytes do not make ${out.length / QK} blocks`);
  const dv = new DataView(blocks.buffer, blocks.byteOffset, blocks.byteLength);
  for (let i = 0; i < nb; i++) {
    const o = i * Q4_0_BYTES, d = f16BitsToF32(dv.getUint16(o, true));
    for (let j = 0; j < QK / 2; j++) {
      const b = blocks[o + 2 + j];
      out[i * QK + j] = ((b & 0x0f) - 8) * d;
      out[i * QK + j + QK / 2] = ((b >> 4) - 8) * d;
    }
  }
  return out;
}
