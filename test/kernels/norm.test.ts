// RMSNorm: native vs reference, the reference backward vs finite differences, += semantics,
// determinism and argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normKernels as nat } from '../../src/backends/native/norm.js';
import { normKernels as ref } from '../../src/backends/reference/norm.js';
import { Rng, randn, assertClose, checkGradient, weightedSum } from '../util.js';

const EPS = 1e-6;
// With C = 1 the output is ±w whatever x is, so dx = r·w·dout·eps/(x²+eps) is the difference of two
// nearly equal terms: any f32 evaluation is noise there unless eps is large. Backward tests use this.
const bwdEps = (C: number) => (C === 1 ? 0.5 : EPS);

/** f32 → bf16 bit patterns, round to nearest even */
function toBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length), out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16;
  return out;
}

const SHAPES: [number, number][] = [[1, 1], [5, 3], [3, 17], [7, 33], [2, 127], [5, 129], [4, 512], [40, 1024]];

test('rmsnormForward: native matches reference (f32 and bf16 weights)', () => {
  const rng = new Rng(1);
  for (const [N, C] of SHAPES) {
    const x = randn(rng, N * C, 2), w = randn(rng, C, 1);
    for (const wt of [w, toBf16(w)]) {
      const o1 = new Float32Array(N * C), o2 = new Float32Array(N * C);
      const r1 = new Float32Array(N), r2 = new Float32Array(N);
      nat.rmsnormForward(o1, r1, x, wt, N, C, EPS);
      ref.rmsnormForward(o2, r2, x, wt, N, C, EPS);
      const tag = `N=${N} C=${C} ${wt instanceof Uint16Array ? 'bf16' : 'f32'}`;
      // ggml's f32 scale (f32 squares summed in f64, whose order does not matter here): bit for bit
      assert.deepEqual(r1, r2, `rstd ${tag}`);
      assert.deepEqual(o1, o2, `out ${tag}`);
      // inference (rstd = null) gives the same output
      const o3 = new Float32Array(N * C);
      nat.rmsnormForward(o3, null, x, wt, N, C, EPS);
      assert.deepEqual(o3, o1, `rstd=null ${tag}`);
    }
  }
});

test('rmsnormForward computes llama.cpp\'s scale: 1/sqrtf(f32(Σ f32(x²) / C) + eps), all in f32', () => {
  const rng = new Rng(4);
  const fr = Math.fround;
  for (const C of [7, 256, 4096]) {
    const x = randn(rng, C, 0.3), w = new Float32Array(C).fill(1), out = new Float32Array(C), r = new Float32Array(1);
    nat.rmsnormForward(out, r, x, w, 1, C, 1e-6);
    let ss = 0;
    for (let i = 0; i < C; i++) ss += fr(x[i] * x[i]);
    const want = fr(1 / fr(Math.sqrt(fr(fr(ss / C) + fr(1e-6)))));
    assert.equal(r[0], want, `C=${C}`);
    // the f64-exact 1/sqrt(mean + eps) is not always this value: the f32 steps are part of the result
    assert.ok(Math.abs(r[0] - 1 / Math.sqrt(ss / C + 1e-6)) <= 2 * 2 ** -23 * r[0]);
    for (let i = 0; i < C; i++) assert.equal(out[i], fr(x[i] * want));
  }
});

test('rmsnormForward: bf16 weight equals its f32 widening; eps matters for tiny rows', () => {
  const rng = new Rng(2);
  const N = 3, C = 33, x = randn(rng, N * C), wb = toBf16(randn(rng, C));
  const wf = new Float32Array(new Uint32Array(Array.from(wb, (b) => b << 16)).buffer);
  const o1 = new Float32Array(N * C), o2 = new Float32Array(N * C);
  nat.rmsnormForward(o1, null, x, wb, N, C, EPS);
  nat.rmsnormForward(o2, null, x, wf, N, C, EPS);
  assert.deepEqual(o1, o2);
  // an all-zero row gives rstd = 1/sqrt(eps) and a zero output, not NaN
  const z = new Float32Array(C), r = new Float32Array(1), o = new Float32Array(C);
  nat.rmsnormForward(o, r, z, wf, 1, C, 1e-5);
  assert.ok(Math.abs(r[0] - 1 / Math.sqrt(1e-5)) < 1e-2 && o.every((v) => v === 0));
});

test('rmsnormBackward: native matches reference, adds into dx and dw, deterministic', () => {
  const rng = new Rng(3);
  for (const [N, C] of SHAPES) {
    const x = randn(rng, N * C, 1.5), w = randn(rng, C), dout = randn(rng, N * C);
    for (const wt of [w, toBf16(w)]) {
      const rstd = new Float32Array(N);
      ref.rmsnormForward(new Float32Array(N * C), rstd, x, wt, N, C, bwdEps(C));
      const dx0 = randn(rng, N * C), dw0 = randn(rng, C);
      const dx1 = dx0.slice(), dw1 = dw0.slice(), dx2 = dx0.slice(), dw2 = dw0.slice();
      nat.rmsnormBackward(dx1, dw1, dout, x, wt, rstd, N, C);
      ref.rmsnormBackward(dx2, dw2, dout, x, wt, rstd, N, C);
      const tag = `N=${N} C=${C} ${wt instanceof Uint16Array ? 'bf16' : 'f32'}`;
      // compare the increments, which are the kernels' own results
      const inc = (a: Float32Array, a0: Float32Array) => a.map((v, i) => v - a0[i]);
      const dxN = new Float32Array(N * C), dwN = new Float32Array(C);
      nat.rmsnormBackward(dxN, dwN, dout, x, wt, rstd, N, C);
      const dxR = new Float32Array(N * C), dwR = new Float32Array(C);
      ref.rmsnormBackward(dxR, dwR, dout, x, wt, rstd, N, C);
      assertClose(dxN, dxR, 1e-5, `dx ${tag}`);
      assertClose(dwN, dwR, 1e-5, `dw ${tag}`);
      // += : accumulating onto dx0/dw0 is dx0 + (fresh result), up to the one f32 rounding of the add
      assertClose(inc(dx1, dx0), dxN, 1e-5, `dx += ${tag}`);
      assertClose(inc(dw1, dw0), dwN, 1e-5, `dw += ${tag}`);
      assertClose(dx1, dx2, 1e-5, `dx accumulated ${tag}`);
      assertClose(dw1, dw2, 1e-5, `dw accumulated ${tag}`);
      // deterministic: a second run is bit-identical
      const dxB = new Float32Array(N * C), dwB = new Float32Array(C);
      nat.rmsnormBackward(dxB, dwB, dout, x, wt, rstd, N, C);
      assert.deepEqual(dxB, dxN, `dx repeat ${tag}`);
      assert.deepEqual(dwB, dwN, `dw repeat ${tag}`);
    }
  }
});

test('rmsnormBackward (reference) matches finite differences of rmsnormForward', () => {
  const rng = new Rng(4);
  for (const [N, C] of [[1, 1], [3, 5], [4, 17]] as [number, number][]) {
    const x = randn(rng, N * C), w = randn(rng, C), wts = randn(rng, N * C);
    const loss = () => {
      const o = new Float32Array(N * C);
      ref.rmsnormForward(o, null, x, w, N, C, bwdEps(C));
      return weightedSum(o, wts);
    };
    const rstd = new Float32Array(N);
    ref.rmsnormForward(new Float32Array(N * C), rstd, x, w, N, C, bwdEps(C));
    const dx = new Float32Array(N * C), dw = new Float32Array(C);
    ref.rmsnormBackward(dx, dw, wts, x, w, rstd, N, C);
    checkGradient(`dx N=${N} C=${C}`, x, dx, loss, { rng });
    checkGradient(`dw N=${N} C=${C}`, w, dw, loss, { rng });
  }
});

test('rmsnorm: bad arguments throw naming the op', () => {
  const N = 2, C = 4, x = new Float32Array(N * C), w = new Float32Array(C), r = new Float32Array(N);
  for (const k of [nat, ref]) {
    const f = /rmsnormForward/, b = /rmsnormBackward/;
    assert.throws(() => k.rmsnormForward(new Float32Array(N * C - 1), r, x, w, N, C, EPS), f);
    assert.throws(() => k.rmsnormForward(new Float32Array(N * C), new Float32Array(1), x, w, N, C, EPS), f);
    assert.throws(() => k.rmsnormForward(new Float32Array(N * C), r, x, new Float32Array(C - 1), N, C, EPS), f);
    assert.throws(() => k.rmsnormForward(new Float32Array(N * C), r, new Float64Array(N * C) as never, w, N, C, EPS), f);
    assert.throws(() => k.rmsnormForward(new Float32Array(N * C), r, x, new Int32Array(C) as never, N, C, EPS), f);
    assert.throws(() => k.rmsnormForward(new Float32Array(N * C), r, x, w, N, 0, EPS), f);
    assert.throws(() => k.rmsnormForward(new Float32Array(N * C), r, x, w, -1, C, EPS), f);
    assert.throws(() => k.rmsnormForward(new Float32Array(N * C), r, x, w, N, 1.5, EPS), f);
    assert.throws(() => k.rmsnormForward(new Float32Array(N * C), r, x, w, N, C, NaN), f);
    assert.throws(() => k.rmsnormBackward(new Float32Array(N * C), new Float32Array(C), x, x, w, new Float32Array(N - 1), N, C), b);
    assert.throws(() => k.rmsnormBackward(new Float32Array(N * C), new Float32Array(C - 1), x, x, w, r, N, C), b);
    assert.throws(() => k.rmsnormBackward(new Float32Array(N * C), new Float32Array(C), x.subarray(1), x, w, r, N, C), b);
    assert.throws(() => k.rmsnormBackward(new Float32Array(N * C), new Float32Array(C), x, x, w, null as never, N, C), b);
  }
});
