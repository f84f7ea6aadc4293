// Reference twins of native/quant.cc, written from ggml's reference quantizers (ggml-quants.c
// quantize_row_q8_0_ref / q4_0_ref, dequantize_row_*), ggml's x86 activation quantizer and the f32
// summation order of its quantized matmuls (dot mode, bit for bit), and plain f64 dot products
// otherwise: the oracle the native kernels are tested against.
import type { Kernels, WeightFormat } from '../../core/backend.js';
import type { F32, I32 } from '../../core/dtype.js';
import { fail, f32, size } from './check.js';
import { f16BitsToF32, f32BitsToBf16, f32BitsToF16 } from './convert.js';

const QK = 32;
const BLOCK = { q8_0: 34, q4_0: 18 } as const;
const FORMATS: WeightFormat[] = ['f32', 'bf16', 'f16', 'q8_0', 'q4_0'];

const s32 = new Float32Array(1), u32 = new Uint32Array(s32.buffer);
const fr = Math.fround;
/** f32 value → f16 bits (round to nearest even) */
export function toF16(x: number): number { s32[0] = x; return f32BitsToF16(u32[0]); }
/** f16 bits → value */
export function fromF16(h: number): number { u32[0] = f16BitsToF32(h); return s32[0]; }
/** f32 value → bf16 bits → value (round to nearest even) */
function roundBf16(x: number): number { s32[0] = x; u32[0] = f32BitsToBf16(u32[0]) << 16; return s32[0]; }
function fromBf16(h: number): number { u32[0] = h << 16; return s32[0]; }
/** C's roundf: half away from zero */
const roundAway = (x: number) => Math.sign(x) * Math.floor(Math.abs(x) + 0.5);

export function rowBytes(fmt: WeightFormat, k: number): number {
  switch (fmt) {
    case 'f32': return 4 * k;
    case 'bf16': case 'f16': return 2 * k;
    default: return (k / QK) * BLOCK[fmt];
  }
}

function checkFmt(op: string, fmt: WeightFormat, k: number): void {
  if (!FORMATS.includes(fmt)) fail(op, `unknown weight format ${JSON.stringify(fmt)}`);
  if ((fmt === 'q8_0' || fmt === 'q4_0') && k % QK !== 0) fail(op, `${k} elements is not a whole number of 32-element blocks`);
}

function bytes(op: string, name: string, a: unknown, need: number): asserts a is Uint8Array {
  if (!(a instanceof Uint8Array)) fail(op, `argument '${name}' must be a Uint8Array`);
  if (a.length < need) fail(op, `argument '${name}' holds ${a.length} bytes, needs ${need}`);
}

export function quantizeBlockQ8(x: ArrayLike<number>, x0: number, out: Uint8Array, o: number): void {
  let amax = 0;
  for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[x0 + j]));
  const d = fr(amax / 127), id = d !== 0 ? fr(1 / d) : 0;
  const h = toF16(d);
  out[o] = h & 0xff; out[o + 1] = h >>> 8;
  for (let j = 0; j < QK; j++) out[o + 2 + j] = roundAway(fr(x[x0 + j] * id)) & 0xff;
}

export function quantizeBlockQ4(x: ArrayLike<number>, x0: number, out: Uint8Array, o: number): void {
  let amax = 0, max = 0;
  for (let j = 0; j < QK; j++) if (amax < Math.abs(x[x0 + j])) { amax = Math.abs(x[x0 + j]); max = x[x0 + j]; }
  const d = fr(max / -8), id = d !== 0 ? fr(1 / d) : 0;
  const h = toF16(d);
  out[o] = h & 0xff; out[o + 1] = h >>> 8;
  const q = (v: number) => Math.min(15, Math.trunc(fr(fr(v * id) + 8.5)));
  for (let j = 0; j < QK / 2; j++) out[o + 2 + j] = q(x[x0 + j]) | (q(x[x0 + j + QK / 2]) << 4);
}

/** round half to even (the conversion of x86 vector code under the default rounding mode) */
function roundEven(x: number): number {
  const r = Math.round(x);  // half up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Activations → q8_0 as ggml's x86 matmuls quantize them (quantize_row_q8_0 / quantize_mat_q8_0), not
 * as the reference quantizer above: id = 127/amax, q = round-half-even(x·id), d = f16(amax/127).
 * Writes 32 quants at q[q0…]; returns the f32 value of the f16 scale and Σq.
 */
export function quantizeActQ8(x: ArrayLike<number>, x0: number, q: Int8Array, q0: number): { d: number; sum: number } {
  let amax = 0;
  for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[x0 + j]));
  const id = amax !== 0 ? fr(127 / amax) : 0;
  let sum = 0;
  for (let j = 0; j < QK; j++) { q[q0 + j] = roundEven(fr(x[x0 + j] * id)); sum += q[q0 + j]; }
  return { d: fromF16(toF16(fr(amax / 127))), sum };
}

const i32 = new Int32Array(s32.buffer);
/** the f32 next to f (an f32, not zero-crossing here) in the direction of sign */
function nextF32(f: number, sign: number): number {
  s32[0] = f;
  i32[0] += (f > 0) === (sign > 0) ? 1 : -1;
  return s32[0];
}
/**
 * fma(a, b, c) in f32: a·b + c rounded once. Exact when a·b is exact in f64 (here an integer below
 * 2^17 times an f32): p + c is formed in f64 with its rounding error (two-sum), and an f64 result that
 * lands on a midpoint between two f32 values is settled by the error's sign, not by ties-to-even.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b, s = p + c;
  const bb = s - c, e = (c - (s - bb)) + (p - bb);
  const r = fr(s);
  if (e === 0 || r === s) return r;
  const other = nextF32(r, s - r);
  if ((r + other) / 2 !== s) return r;
  return (e > 0) === (other > r) ? other : r;
}

/** tinyBLAS's horizontal sum of 8 f32 lanes */
function hsum8(l: Float64Array): number {
  const s0 = fr(l[4] + l[0]), s1 = fr(l[5] + l[1]), s2 = fr(l[6] + l[2]), s3 = fr(l[7] + l[3]);
  return fr(fr(s0 + s2) + fr(s1 + s3));
}

/** element i of a row stored in fmt */
function rowReader(fmt: WeightFormat, w: Uint8Array, base: number): (i: number) => number {
  const u16 = (o: number) => w[o] | (w[o + 1] << 8);
  switch (fmt) {
    case 'f32': { const dv = new DataView(w.buffer, w.byteOffset); return (i) => dv.getFloat32(base + 4 * i, true); }
    case 'bf16': return (i) => fromBf16(u16(base + 2 * i));
    case 'f16': return (i) => fromF16(u16(base + 2 * i));
    case 'q8_0': return (i) => {
      const b = base + Math.floor(i / QK) * 34;
      return fr(fromF16(u16(b)) * ((w[b + 2 + (i % QK)] << 24) >> 24));
    };
    case 'q4_0': return (i) => {
      const b = base + Math.floor(i / QK) * 18, j = i % QK;
      const q = j < 16 ? w[b + 2 + j] & 15 : w[b + 2 + j - 16] >> 4;
      return fr(fromF16(u16(b)) * (q - 8));
    };
  }
}

export const quantKernels: Pick<Kernels, 'quantize' | 'dequantize' | 'embedRows' | 'matmulQuant' | 'streamRead'> = {
  quantize(out: Uint8Array, x: F32, fmt: 'q8_0' | 'q4_0', n: number): void {
    size('quantize', 'n', n);
    if (fmt !== 'q8_0' && fmt !== 'q4_0') fail('quantize', `fmt must be q8_0 or q4_0, got ${JSON.stringify(fmt)}`);
    checkFmt('quantize', fmt, n);
    f32('quantize', 'x', x, n);
    bytes('quantize', 'out', out, rowBytes(fmt, n));
    for (let b = 0; b < n / QK; b++) (fmt === 'q8_0' ? quantizeBlockQ8 : quantizeBlockQ4)(x, b * QK, out, b * BLOCK[fmt]);
  },
  dequantize(out: F32, w: Uint8Array, fmt: WeightFormat, n: number): void {
    size('dequantize', 'n', n);
    checkFmt('dequantize', fmt, n);
    f32('dequantize', 'out', out, n);
    bytes('dequantize', 'w', w, rowBytes(fmt, n));
    const r = rowReader(fmt, w, 0);
    for (let i = 0; i < n; i++) out[i] = r(i);
  },
  embedRows(out: F32, ids: I32, w: Uint8Array, fmt: WeightFormat, N: number, k: number, V: number): void {
    for (const [nm, v] of [['N', N], ['k', k], ['V', V]] as const) size('embedRows', nm, v);
    checkFmt('embedRows', fmt, k);
    f32('embedRows', 'out', out, N * k);
    bytes('embedRows', 'w', w, V * rowBytes(fmt, k));
    for (let i = 0; i < N; i++) {
      if (!(ids[i] >= 0 && ids[i] < V)) fail('embedRows', `ids[${i}] = ${ids[i]} is outside [0, ${V})`);
      const r = rowReader(fmt, w, ids[i] * rowBytes(fmt, k));
      for (let j = 0; j < k; j++) out[i * k + j] = r(j);
    }
  },
  matmulQuant(y: F32, x: F32, w: Uint8Array, fmt: WeightFormat, rows: number, n: number, k: number, mode: 'dot' | 'gemm'): void {
    const op = 'matmulQuant';
    for (const [nm, v] of [['rows', rows], ['n', n], ['k', k]] as const) size(op, nm, v);
    checkFmt(op, fmt, k);
    if (mode !== 'dot' && mode !== 'gemm') fail(op, `mode must be 'dot' or 'gemm', got ${JSON.stringify(mode)}`);
    f32(op, 'y', y, rows * n);
    f32(op, 'x', x, rows * k);
    bytes(op, 'w', w, n * rowBytes(fmt, k));
    const rb = rowBytes(fmt, k);
    const quant = fmt === 'q8_0' || fmt === 'q4_0';
    if (mode === 'dot' && quant) {
      // x rows → q8_0 blocks as ggml's x86 matmuls quantize them; then ggml's f32 order (see
      // native/quant_dot.h): q8_0 as llamafile's tinyBLAS (8 lanes of 4 products each, one fma chain
      // per lane over the blocks, then hsum8), q4_0 as the repacked gemv (one fma chain of whole-block
      // integer sums); the scale d_w·d_x one f32 product
      const nb = k / QK, bb = BLOCK[fmt];
      const xq = new Int8Array(rows * k), xd = new Float64Array(rows * nb);
      for (let b = 0; b < rows * nb; b++) xd[b] = quantizeActQ8(x, b * QK, xq, b * QK).d;
      const lanes = new Float64Array(8);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < n; j++) {
          lanes.fill(0);
          let acc = 0;
          for (let b = 0; b < nb; b++) {
            const wo = j * rb + b * bb, xo = (r * nb + b) * QK;
            const s = fr(fromF16(w[wo] | (w[wo + 1] << 8)) * xd[r * nb + b]);
            if (fmt === 'q8_0') {
              for (let L = 0; L < 8; L++) {
                let p = 0;
                for (let t = 4 * L; t < 4 * L + 4; t++) p += ((w[wo + 2 + t] << 24) >> 24) * xq[xo + t];
                lanes[L] = fmaF32(p, s, lanes[L]);
              }
            } else {
              let p = 0;
              for (let t = 0; t < QK; t++) p += ((t < 16 ? w[wo + 2 + t] & 15 : w[wo + 2 + t - 16] >> 4) - 8) * xq[xo + t];
              acc = fmaF32(p, s, acc);
            }
          }
          y[r * n + j] = fmt === 'q8_0' ? hsum8(lanes) : acc;
        }
      }
      return;
    }
    // f32 x against widened weights ('dot', f32 and 16-bit formats), or both rounded to bf16 ('gemm'; f16 and f32 stay f32)
    const roundX = mode === 'gemm' && fmt !== 'f16' && fmt !== 'f32';
    const wrow = new Float64Array(k);
    for (let j = 0; j < n; j++) {
      const rd = rowReader(fmt, w, j * rb);
      for (let t = 0; t < k; t++) wrow[t] = roundX ? roundBf16(rd(t)) : rd(t);
      for (let r = 0; r < rows; r++) {
        let acc = 0;
        for (let t = 0; t < k; t++) acc += (roundX ? roundBf16(x[r * k + t]) : x[r * k + t]) * wrow[t];
        y[r * n + j] = acc;
      }
    }
  },
  streamRead(buf: Uint8Array): number {
    let s = 0;
    for (let i = 0; i < buf.length; i += 64) s ^= buf[i];
    return s;
  },
};
