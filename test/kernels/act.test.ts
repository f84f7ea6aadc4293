// SwiGLU: native vs reference (elementwise, over the whole range of gate values), no overflow at
// large |gate|, finite differences of the reference backward, += semantics, argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actKernels as nat } from '../../src/backends/native/act.js';
import { actKernels as ref } from '../../src/backends/reference/act.js';
import { Rng, randn, assertClose, checkGradient, weightedSum } from '../util.js';

/** max over i of |a−b| / max(|b|, 1e-30): every element, not just the largest, must be accurate */
function maxElemRelErr(a: Float32Array, b: Float32Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-30);
    e = Math.max(e, Number.isNaN(d) ? Infinity : d);
  }
  return e;
}

/**
 * dgate = dout·up·silu'(g) and silu'(g) = σ·(1 + g·(1−σ)) crosses 0 at g ≈ −1.2785, where any f32
 * evaluation keeps only an absolute error of a few ulp of dout·up: measure against max(|ref|, 0.1·|dout·up|).
 */
function dgateErr(a: Float32Array, b: Float32Array, dout: Float32Array, up: Float32Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 0.1 * Math.abs(dout[i] * up[i]), 1e-30);
    e = Math.max(e, Number.isNaN(d) ? Infinity : d);
  }
  return e;
}

/** a sweep of gate values from −120 to 120 plus edge cases, so exp underflow and σ → 0/1 are hit */
function sweep(): Float32Array {
  const xs: number[] = [];
  for (let g = -120; g <= 120; g += 0.0173) xs.push(g);
  for (let g = -1.2795; g <= -1.2775; g += 1e-5) xs.push(g); // around the zero of silu'
  xs.push(0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 87.5, -87.5, 88.8, -88.8, 103.9, -103.9, 200, -200);
  return Float32Array.from(xs);
}

test('swiglu: native matches reference elementwise to 1e-5 over a sweep of gate values', () => {
  const g = sweep(), n = g.length, rng = new Rng(1);
  const u = randn(rng, n), dout = randn(rng, n);
  const o1 = new Float32Array(n), o2 = new Float32Array(n);
  nat.swigluForward(o1, g, u, n);
  ref.swigluForward(o2, g, u, n);
  // below ~1e-30 the f32 result is subnormal or 0 and carries no relative precision
  const big = (a: Float32Array, b: Float32Array) => {
    const keep = Array.from(b, (v, i) => i).filter((i) => Math.abs(b[i]) > 1e-30);
    return [Float32Array.from(keep, (i) => a[i]), Float32Array.from(keep, (i) => b[i])] as const;
  };
  assert.ok(maxElemRelErr(...big(o1, o2)) <= 1e-5, `forward ${maxElemRelErr(...big(o1, o2))}`);
  const dg1 = new Float32Array(n), du1 = new Float32Array(n), dg2 = new Float32Array(n), du2 = new Float32Array(n);
  nat.swigluBackward(dg1, du1, dout, g, u, n);
  ref.swigluBackward(dg2, du2, dout, g, u, n);
  assert.ok(dgateErr(dg1, dg2, dout, u) <= 1e-5, `dgate ${dgateErr(dg1, dg2, dout, u)}`);
  assert.ok(maxElemRelErr(...big(du1, du2)) <= 1e-5, `dup ${maxElemRelErr(...big(du1, du2))}`);
  for (let i = 0; i < n; i++) {
    if (Math.abs(o2[i]) <= 1e-30) assert.ok(Math.abs(o1[i]) <= 1e-30, `tiny out at gate ${g[i]}: ${o1[i]}`);
  }
});

test('swiglu: huge |gate| gives finite limits, no NaN; NaN gate propagates', () => {
  const g = Float32Array.from([1e4, -1e4, 1e30, -1e30, 3e38, -3e38, NaN]), n = g.length;
  const u = new Float32Array(n).fill(1), dout = new Float32Array(n).fill(1);
  for (const k of [nat, ref]) {
    const o = new Float32Array(n), dg = new Float32Array(n), du = new Float32Array(n);
    k.swigluForward(o, g, u, n);
    k.swigluBackward(dg, du, dout, g, u, n);
    const plain = (a: Float32Array) => Array.from(a.subarray(0, 6), (v) => v + 0); // −0 → 0
    assert.deepEqual(plain(o), [1e4, 0, Math.fround(1e30), 0, Math.fround(3e38), 0]);
    assert.deepEqual(plain(dg), [1, 0, 1, 0, 1, 0]);
    assert.deepEqual(plain(du), plain(o));
    assert.ok(Number.isNaN(o[6]) && Number.isNaN(dg[6]) && Number.isNaN(du[6]));
  }
});

test('swiglu: native matches reference on random inputs of many sizes, backward adds', () => {
  const rng = new Rng(2);
  for (const n of [1, 3, 15, 16, 17, 33, 127, 1000, 70001]) {
    const g = randn(rng, n, 4), u = randn(rng, n), dout = randn(rng, n);
    const o1 = new Float32Array(n), o2 = new Float32Array(n);
    nat.swigluForward(o1, g, u, n);
    ref.swigluForward(o2, g, u, n);
    assertClose(o1, o2, 1e-6, `forward n=${n}`);
    assert.ok(maxElemRelErr(o1, o2) <= 1e-5, `forward elementwise n=${n}`);
    const dg0 = randn(rng, n), du0 = randn(rng, n);
    const dg1 = dg0.slice(), du1 = du0.slice(), dg2 = dg0.slice(), du2 = du0.slice();
    nat.swigluBackward(dg1, du1, dout, g, u, n);
    ref.swigluBackward(dg2, du2, dout, g, u, n);
    assertClose(dg1, dg2, 1e-5, `dgate n=${n}`);
    assertClose(du1, du2, 1e-5, `dup n=${n}`);
    const dgF = new Float32Array(n), duF = new Float32Array(n), dgR = new Float32Array(n), duR = new Float32Array(n);
    nat.swigluBackward(dgF, duF, dout, g, u, n);
    ref.swigluBackward(dgR, duR, dout, g, u, n);
    assert.ok(dgateErr(dgF, dgR, dout, u) <= 1e-5, `dgate elementwise n=${n}`);
    assert.ok(maxElemRelErr(duF, duR) <= 1e-5, `dup elementwise n=${n}`);
    assertClose(dg1.map((v, i) => v - dg0[i]), dgF, 1e-5, `dgate adds n=${n}`);
    assertClose(du1.map((v, i) => v - du0[i]), duF, 1e-5, `dup adds n=${n}`);
  }
  // only the first n elements are touched
  const o = new Float32Array(20).fill(7);
  nat.swigluForward(o, randn(rng, 20), randn(rng, 20), 13);
  assert.ok(o.subarray(13).every((v) => v === 7));
});

test('swigluBackward (reference) matches finite differences of swigluForward', () => {
  const rng = new Rng(3), n = 40;
  const g = randn(rng, n, 3), u = randn(rng, n), wts = randn(rng, n);
  const dg = new Float32Array(n), du = new Float32Array(n);
  ref.swigluBackward(dg, du, wts, g, u, n);
  const loss = () => {
    const o = new Float32Array(n);
    ref.swigluForward(o, g, u, n);
    return weightedSum(o, wts);
  };
  checkGradient('dgate', g, dg, loss, { rng, samples: 20, h: 1e-3 });
  checkGradient('dup', u, du, loss, { rng, samples: 20, h: 1e-3 });
});

test('swiglu: bad arguments throw naming the op', () => {
  const n = 8, a = new Float32Array(n);
  for (const k of [nat, ref]) {
    assert.throws(() => k.swigluForward(new Float32Array(n - 1), a, a, n), /swigluForward/);
    assert.throws(() => k.swigluForward(new Float32Array(n), a.subarray(1), a, n), /swigluForward/);
    assert.throws(() => k.swigluForward(new Float32Array(n), a, new Float64Array(n) as never, n), /swigluForward/);
    assert.throws(() => k.swigluForward(new Float32Array(n), a, a, -1), /swigluForward/);
    assert.throws(() => k.swigluForward(new Float32Array(n), a, a, 2.5), /swigluForward/);
    assert.throws(() => k.swigluBackward(new Float32Array(n), new Float32Array(n - 1), a, a, a, n), /swigluBackward/);
    assert.throws(() => k.swigluBackward(new Float32Array(n), new Float32Array(n), a, a, new Int32Array(n) as never, n), /swigluBackward/);
    assert.throws(() => k.swigluBackward(new Float32Array(n), new Float32Array(n), a, a, a, NaN), /swigluBackward/);
  }
});
