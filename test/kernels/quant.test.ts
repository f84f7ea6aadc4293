// Quantized weights: native kernels against the TypeScript reference (odd shapes, both matmul modes,
// every format), ggml's block layout against blocks computed by hand, and quantize→dequantize error
// bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantKernels as nat } from '../../src/backends/native/quant.js';
import { quantKernels as ref, toF16, fromF16, quantizeActQ8, fmaF32 } from '../../src/backends/reference/quant.js';
import { convertKernels } from '../../src/backends/native/convert.js';
import type { WeightFormat } from '../../src/core/backend.js';
import { Rng, randn, relErr } from '../util.js';

const BLOCK = { q8_0: 34, q4_0: 18 } as const;

test('q8_0 block layout: f16 d = amax/127, then round(x/d) as int8', () => {
  const x = new Float32Array(32);
  for (let j = 0; j < 32; j++) x[j] = (j - 10) * 0.25;  // -2.5 … 5.25, amax 5.25
  const out = new Uint8Array(34);
  nat.quantize(out, x, 'q8_0', 32);
  const d = 5.25 / 127;
  assert.equal(out[0] | (out[1] << 8), toF16(d), 'scale is the f16 of amax/127');
  const id = Math.fround(1 / Math.fround(d));
  for (let j = 0; j < 32; j++) {
    const v = Math.fround(x[j] * id), want = Math.sign(v) * Math.floor(Math.abs(v) + 0.5);
    assert.equal((out[2 + j] << 24) >> 24, want, `element ${j}`);
  }
  assert.equal((out[2 + 31] << 24) >> 24, 127);
  assert.equal((out[2 + 0] << 24) >> 24, -60);  // -2.5 / (5.25/127) = -60.476 → -60
  const ref8 = new Uint8Array(34);
  ref.quantize(ref8, x, 'q8_0', 32);
  assert.deepEqual(out, ref8);
});

test('q4_0 block layout: d = max/−8 (signed value of largest magnitude), nibbles lo = 0–15, hi = 16–31', () => {
  const x = new Float32Array(32);
  for (let j = 0; j < 32; j++) x[j] = j === 5 ? -4 : (j % 7) * 0.5 - 1;  // max is -4 → d = 0.5
  const out = new Uint8Array(18);
  nat.quantize(out, x, 'q4_0', 32);
  assert.equal(fromF16(out[0] | (out[1] << 8)), 0.5);
  // q = min(15, trunc(x/d + 8.5)): x = -4 → 0; x = -1 → 6; x = 2 → 12
  const q = (v: number) => Math.min(15, Math.trunc(v / 0.5 + 8.5));
  for (let j = 0; j < 16; j++) {
    assert.equal(out[2 + j] & 15, q(x[j]), `low nibble ${j}`);
    assert.equal(out[2 + j] >> 4, q(x[j + 16]), `high nibble ${j} (element ${j + 16})`);
  }
  assert.equal(out[2 + 5] & 15, 0);
  const deq = new Float32Array(32);
  nat.dequantize(deq, out, 'q4_0', 32);
  assert.equal(deq[5], -4);
  assert.equal(deq[0], -1);  // (6 − 8)·0.5
});

test('quantize and dequantize: native equals reference bit for bit; error within half a step per block', () => {
  const rng = new Rng(7);
  const n = 32 * 97;
  const x = randn(rng, n, 3);
  x[40] = 0; x.fill(0, 64, 96);  // an all-zero block
  for (const fmt of ['q8_0', 'q4_0'] as const) {
    const a = new Uint8Array((n / 32) * BLOCK[fmt]), b = new Uint8Array(a.length);
    nat.quantize(a, x, fmt, n);
    ref.quantize(b, x, fmt, n);
    assert.deepEqual(a, b, `${fmt} blocks`);
    const da = new Float32Array(n), db = new Float32Array(n);
    nat.dequantize(da, a, fmt, n);
    ref.dequantize(db, a, fmt, n);
    assert.deepEqual(da, db, `${fmt} dequantized`);
    for (let blk = 0; blk < n / 32; blk++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[blk * 32 + j]));
      const step = fmt === 'q8_0' ? amax / 127 : amax / 8;
      for (let j = 0; j < 32; j++) {
        const i = blk * 32 + j, err = Math.abs(da[i] - x[i]);
        // half a step, plus the f16 rounding of the scale (≤ 2^-11 relative) over up to 127 (8) steps;
        // q4_0 spans −8d … 7d, so values beyond 7 steps opposite the largest clamp to 7d (≤ 1 step)
        const clamped = fmt === 'q4_0' && Math.abs(x[i]) > 6.5 * step && Math.abs(Math.abs(da[i]) / step - 7) < 0.01;
        assert.ok(err <= step * ((clamped ? 1 : 0.5) + (fmt === 'q8_0' ? 127 : 8) * 2 ** -11) + 1e-7, `${fmt} element ${i}: |${da[i]} − ${x[i]}| = ${err}, step ${step}`);
      }
    }
    assert.ok(da[70] === 0, 'zero block stays zero');
  }
});

test('dequantize and embedRows of bf16 / f16 / f32 storage match the reference', () => {
  const rng = new Rng(3);
  const V = 11, k = 37;
  const x = randn(rng, V * k);
  const bf = new Uint16Array(V * k), hf = new Uint16Array(V * k);
  convertKernels.f32ToBf16(bf, x, V * k);
  convertKernels.f32ToF16(hf, x, V * k);
  const stores: [WeightFormat, Uint8Array][] = [
    ['f32', new Uint8Array(x.buffer)], ['bf16', new Uint8Array(bf.buffer)], ['f16', new Uint8Array(hf.buffer)],
  ];
  const ids = Int32Array.from([3, 0, 10, 3]);
  for (const [fmt, w] of stores) {
    const a = new Float32Array(4 * k), b = new Float32Array(4 * k);
    nat.embedRows(a, ids, w, fmt, 4, k, V);
    ref.embedRows(b, ids, w, fmt, 4, k, V);
    assert.deepEqual(a, b, fmt);
  }
  assert.throws(() => nat.embedRows(new Float32Array(k), Int32Array.from([V]), stores[0][1], 'f32', 1, k, V), /ids\[0\] = 11 is outside \[0, 11\)/);
});

function weights(rng: Rng, fmt: WeightFormat, n: number, k: number): Uint8Array {
  const w = randn(rng, n * k, 0.5);
  if (fmt === 'f32') return new Uint8Array(w.buffer);
  if (fmt === 'bf16') { const u = new Uint16Array(n * k); convertKernels.f32ToBf16(u, w, n * k); return new Uint8Array(u.buffer); }
  if (fmt === 'f16') { const u = new Uint16Array(n * k); convertKernels.f32ToF16(u, w, n * k); return new Uint8Array(u.buffer); }
  const out = new Uint8Array((n * k / 32) * BLOCK[fmt]);
  nat.quantize(out, w, fmt, n * k);
  return out;
}

test('matmulQuant: native equals reference on odd shapes, every format, both modes', () => {
  const rng = new Rng(11);
  const fmts: WeightFormat[] = ['q8_0', 'q4_0', 'bf16', 'f16', 'f32'];
  // [rows, n, k]: k a multiple of 32 for block formats; odd n and rows; k = 32·odd
  const shapes: [number, number, number][] = [[1, 1, 32], [1, 67, 96], [3, 33, 160], [7, 130, 288], [13, 21, 64], [40, 70, 224], [1, 257, 1024], [2, 48, 64], [4, 36, 1024]];
  for (const fmt of fmts) {
    for (const [rows, n, k0] of shapes) {
      const k = fmt === 'bf16' || fmt === 'f16' || fmt === 'f32' ? k0 + 5 : k0;  // plain formats: odd k too
      const w = weights(rng, fmt, n, k);
      const x = randn(rng, rows * k);
      for (const mode of ['dot', 'gemm'] as const) {
        const a = new Float32Array(rows * n), b = new Float32Array(rows * n);
        nat.matmulQuant(a, x, w, fmt, rows, n, k, mode);
        ref.matmulQuant(b, x, w, fmt, rows, n, k, mode);
        // the quantized dot mode follows ggml's f32 order exactly (tiles, single rows, 1–4 x rows):
        // bit for bit; the rest (f64 reference sums) within rounding
        if (mode === 'dot' && (fmt === 'q8_0' || fmt === 'q4_0')) assert.deepEqual(a, b, `${fmt} dot [${rows},${n},${k}] bit for bit`);
        const e = relErr(a, b);
        assert.ok(e < 2e-5, `${fmt} ${mode} [${rows},${n},${k}]: relative error ${e}`);
      }
    }
  }
});

test('matmulQuant approximates the f32 product within the format precision', () => {
  const rng = new Rng(5);
  const rows = 4, n = 64, k = 512;
  const wf = randn(rng, n * k, 0.5), x = randn(rng, rows * k);
  const exact = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += x[r * k + t] * wf[j * k + t];
    exact[r * n + j] = s;
  }
  for (const [fmt, tol] of [['q8_0', 0.012], ['q4_0', 0.15], ['bf16', 0.006], ['f16', 0.001]] as const) {
    let w: Uint8Array;
    if (fmt === 'bf16' || fmt === 'f16') {
      const u = new Uint16Array(n * k);
      (fmt === 'bf16' ? convertKernels.f32ToBf16 : convertKernels.f32ToF16)(u, wf, n * k);
      w = new Uint8Array(u.buffer);
    } else { w = new Uint8Array((n * k / 32) * BLOCK[fmt]); nat.quantize(w, wf, fmt, n * k); }
    for (const mode of ['dot', 'gemm'] as const) {
      const y = new Float32Array(rows * n);
      nat.matmulQuant(y, x, w, fmt, rows, n, k, mode);
      const e = relErr(y, exact);
      assert.ok(e < tol, `${fmt} ${mode}: relative error ${e} vs f32 ≥ ${tol}`);
    }
  }
});

test('matmulQuant rejects bad arguments with the argument named', () => {
  const w = new Uint8Array(34 * 2), x = new Float32Array(64), y = new Float32Array(4);
  assert.throws(() => nat.matmulQuant(y, x, w, 'q8_0', 1, 2, 48, 'dot'), /k \(48\) must be a multiple of 32/);
  assert.throws(() => nat.matmulQuant(y, x, w, 'q8_0', 1, 3, 32, 'dot'), /'w' holds 68 bytes, needs 102/);
  assert.throws(() => nat.matmulQuant(y, x, w, 'q8_0', 2, 2, 64, 'dot'), /'x' holds 64 elements/);
  assert.throws(() => nat.matmulQuant(y, x, w, 'q9' as never, 1, 2, 32, 'dot'), /unknown weight format "q9"/);
  assert.throws(() => nat.quantize(new Uint8Array(10), x, 'q8_0', 32), /'out' holds 10 bytes, needs 34/);
});

test('q8_0 rounds halves away from zero (C roundf), native and reference alike', () => {
  const x = new Float32Array(32);
  x[0] = 127;  // amax 127 → d = 1, so x·(1/d) = x exactly
  const halves = [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 0.49999997, -0.49999997, 3.4999998, -3.5];
  halves.forEach((v, i) => { x[1 + i] = v; });
  const a = new Uint8Array(34), b = new Uint8Array(34);
  nat.quantize(a, x, 'q8_0', 32);
  ref.quantize(b, x, 'q8_0', 32);
  assert.deepEqual(a, b);
  const q = Array.from(a.subarray(3, 3 + halves.length), (u) => (u << 24) >> 24);
  assert.deepEqual(q, [1, -1, 2, -2, 3, -3, 127, -127, 0, 0, 3, -4]);
});

test('activations quantize as ggml\'s x86 matmuls do: id = 127/amax, halves to even (not the weights\' roundf)', () => {
  const x = new Float32Array(32);
  x[0] = 127;  // amax 127 → id = 1, so x·id = x exactly
  const halves = [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 0.49999997, 3.4999998, -3.5];
  halves.forEach((v, i) => { x[1 + i] = v; });
  const q = new Int8Array(32);
  const { d, sum } = quantizeActQ8(x, 0, q, 0);
  assert.equal(d, 1);
  assert.deepEqual(Array.from(q.subarray(1, 1 + halves.length)), [0, 0, 2, -2, 2, -2, 126, -126, 0, 3, -4]);
  assert.equal(sum, Array.from(q).reduce((a, v) => a + v, 0));
  // 127/amax and 1/(amax/127) differ in the last bit for some amax; the quants follow 127/amax
  let found = 0;
  for (let i = 1; i < 4000 && found < 3; i++) {
    const amax = Math.fround(1 + i / 4096), id = Math.fround(127 / amax), idRef = Math.fround(1 / Math.fround(amax / 127));
    if (id === idRef) continue;
    // an element whose x·id sits on the other side of a half than x·idRef
    for (let qv = 1; qv < 127; qv++) {
      const xv = Math.fround((qv + 0.5) / id);
      const a = Math.fround(xv * id), b = Math.fround(xv * idRef);
      if (Math.round(a) === Math.round(b)) continue;
      x.fill(0); x[0] = amax; x[1] = xv;
      quantizeActQ8(x, 0, q, 0);
      assert.equal(q[1], Math.abs(a - Math.trunc(a) - 0.5) < 1e-9 ? 2 * Math.round(a / 2) : Math.round(a), `amax ${amax}, x ${xv}`);
      // and the native kernels agree (a 1×1 dot against w = e_1 exposes q[1]·d_w·d_x)
      const w = new Uint8Array(34); w[1] = 0x3c; w[3] = 1;  // d_w = 1.0 (f16 0x3c00), w[1] = 1
      const yn = new Float32Array(1), yr = new Float32Array(1);
      nat.matmulQuant(yn, x, w, 'q8_0', 1, 1, 32, 'dot');
      ref.matmulQuant(yr, x, w, 'q8_0', 1, 1, 32, 'dot');
      assert.equal(yn[0], yr[0]);
      found++;
      break;
    }
  }
  assert.ok(found > 0, 'an amax where the two inverses differ');
});

test('fmaF32 rounds a·b + c once, including f64 sums that land on an f32 midpoint', () => {
  const f32 = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];
  const one = 1, ulp = 2 ** -23;
  // 1 + ulp/2 is a midpoint: ties to even (1); a hair above it goes up, a hair below stays. The
  // f64 sum 1 + 2^-24 ± 2^-60 rounds onto the midpoint and loses the hair; the two-sum keeps it
  assert.equal(fmaF32(1, ulp / 2, one), 1);
  assert.equal(fmaF32(2 ** 36 + 1, 2 ** -60, one), 1 + ulp);
  assert.equal(fmaF32(2 ** 36 - 1, 2 ** -60, one), 1);
  assert.equal(fmaF32(3 * 2 ** 36 + 1, 2 ** -60, one), 1 + 2 * ulp, 'the midpoint above an odd f32 rounds to even anyway, hair or not');
  assert.equal(fmaF32(3, f32(0x3f800001), -3), Math.fround(3 * f32(0x3f800001) - 3));
  const rng = new Rng(1);
  const bits = new Uint32Array(1), fl = new Float32Array(bits.buffer);
  const step = (f: number, d: number) => { fl[0] = f; bits[0] += (f > 0) === (d > 0) ? 1 : -1; return fl[0]; };
  for (let i = 0; i < 2000; i++) {
    const a = Math.round((rng.uniform() - 0.5) * 65536), b = Math.fround(rng.uniform() * 2 - 1), c = Math.fround((rng.uniform() - 0.5) * 1e4);
    const r = fmaF32(a, b, c);
    // exact a·b + c as s + e (a·b is exact in f64; two-sum for the addition); r is the nearest f32
    const p = a * b, s2 = p + c, bb = s2 - c, e = (c - (s2 - bb)) + (p - bb);
    const dist = (f: number) => Math.abs((s2 - f) + e);
    assert.ok(Number.isFinite(r) && r === Math.fround(r));
    assert.ok(dist(r) <= dist(step(r, 1)) && dist(r) <= dist(step(r, -1)), `fma(${a}, ${b}, ${c}) = ${r}`);
  }
});
