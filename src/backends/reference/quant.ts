// Reference twins of native/quant.cc, written from ggml's reference quantizers (ggml-quants.c
// quantize_row_q8_0_ref / q4_0_ref, dequantize_row_*) and plain f64 dot products: the oracle the
// native kernels are tested against.
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
      // x rows → q8_0 blocks; Σ_blocks fround(d_w·d_x)·(integer dot), q4_0 with its −8 offset
      const xq = new Uint8Array(rows * rowBytes('q8_0', k));
      for (let b = 0; b < (rows * k) / QK; b++) quantizeBlockQ8(x, b * QK, xq, b * 34);
      const nb = k / QK, bb = BLOCK[fmt];
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let b = 0; b < nb; b++) {
            const xo = (r * nb + b) * 34, wo = j * rb + b * bb;
            const dx = fromF16(xq[xo] | (xq[xo + 1] << 8)), dw = fromF16(w[wo] | (w[wo + 1] << 8));
            let dot = 0;
            for (let t = 0; t < QK; t++) {
              const xv = (xq[xo + 2 + t] << 24) >> 24;
              const wv = fmt === 'q8_0' ? (w[wo + 2 + t] << 24) >> 24 : (t < 16 ? w[wo + 2 + t] & 15 : w[wo + 2 + t - 16] >> 4) - 8;
              dot += xv * wv;
            }
            acc += fr(dw * dx) * dot;
          }
          y[r * n + j] = acc;
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
