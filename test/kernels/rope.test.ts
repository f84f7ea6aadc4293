// RoPE: the tables, native vs reference, in-place use, the backward as the inverse rotation,
// finite differences of the reference, += semantics and argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ropeKernels as nat } from '../../src/backends/native/rope.js';
import { ropeKernels as ref } from '../../src/backends/reference/rope.js';
import { ropeTables as tables } from '../../src/ops/rope.js';

const ropeTables = (maxT: number, D: number, theta = 10000) => tables(maxT, D, theta, 'f64');
import { Rng, randn, assertClose, checkGradient, weightedSum } from '../util.js';

// [B, T, H, D, pos0]
const SHAPES: [number, number, number, number, number][] = [
  [1, 1, 1, 2, 0], [1, 3, 1, 6, 5], [2, 5, 3, 34, 0], [1, 7, 2, 66, 11], [2, 17, 4, 64, 3], [1, 33, 1, 258, 0],
  [2, 64, 8, 128, 7], // big enough to run on several threads
];
const MAXT = 80;

test('ropeTables: angles t·θ^(−2i/D)', () => {
  const D = 8, theta = 500, { cos, sin } = ropeTables(10, D, theta);
  assert.equal(cos.length, 10 * 4);
  for (let t = 0; t < 10; t++) {
    for (let i = 0; i < 4; i++) {
      const a = t / Math.pow(theta, (2 * i) / D);
      assert.equal(cos[t * 4 + i], Math.fround(Math.cos(a)));
      assert.equal(sin[t * 4 + i], Math.fround(Math.sin(a)));
    }
  }
  assert.equal(ropeTables(3, 2).sin[2], Math.fround(Math.sin(2))); // default θ = 10000: i = 0 → angle t
  assert.throws(() => ropeTables(4, 5), /ropeTables/);
});

test('rope: native matches reference, forward and backward (+=)', () => {
  const rng = new Rng(1);
  for (const [B, T, H, D, pos0] of SHAPES) {
    const { cos, sin } = ropeTables(MAXT, D);
    const n = B * T * H * D, x = randn(rng, n), tag = `B=${B} T=${T} H=${H} D=${D} pos0=${pos0}`;
    const o1 = new Float32Array(n), o2 = new Float32Array(n);
    nat.ropeForward(o1, x, cos, sin, B, T, H, D, pos0);
    ref.ropeForward(o2, x, cos, sin, B, T, H, D, pos0);
    assertClose(o1, o2, 1e-6, `forward ${tag}`);
    const dx0 = randn(rng, n), dout = randn(rng, n);
    const d1 = dx0.slice(), d2 = dx0.slice(), fresh = new Float32Array(n);
    nat.ropeBackward(d1, dout, cos, sin, B, T, H, D, pos0);
    ref.ropeBackward(d2, dout, cos, sin, B, T, H, D, pos0);
    nat.ropeBackward(fresh, dout, cos, sin, B, T, H, D, pos0);
    assertClose(d1, d2, 1e-6, `backward ${tag}`);
    assertClose(d1.map((v, i) => v - dx0[i]), fresh, 1e-6, `backward adds ${tag}`);
  }
});

test('rope: in place (out = x) and the backward inverts the forward', () => {
  const rng = new Rng(2);
  for (const k of [nat, ref]) {
    for (const [B, T, H, D, pos0] of SHAPES.slice(0, 5)) {
      const { cos, sin } = ropeTables(MAXT, D);
      const n = B * T * H * D, x = randn(rng, n), out = new Float32Array(n);
      k.ropeForward(out, x, cos, sin, B, T, H, D, pos0);
      const y = x.slice();
      k.ropeForward(y, y, cos, sin, B, T, H, D, pos0);
      assert.deepEqual(y, out, `${k === nat ? 'native' : 'reference'} in place`);
      // the rotation is orthogonal: its transpose (the backward) undoes it
      const back = new Float32Array(n);
      k.ropeBackward(back, out, cos, sin, B, T, H, D, pos0);
      assertClose(back, x, 1e-6, 'inverse');
    }
  }
});

test('rope: position 0 is the identity; positions follow pos0 + t', () => {
  const rng = new Rng(3);
  const B = 2, T = 4, H = 2, D = 10, { cos, sin } = ropeTables(MAXT, D), n = B * T * H * D;
  const x = randn(rng, n), o = new Float32Array(n);
  nat.ropeForward(o, x, cos, sin, B, T, H, D, 0);
  assert.deepEqual(o.subarray(0, H * D), x.subarray(0, H * D));
  // token t at pos0 = 6 equals token t + 6 of a longer sequence starting at 0
  const xs = randn(rng, 10 * H * D), all = new Float32Array(10 * H * D), tail = new Float32Array(4 * H * D);
  nat.ropeForward(all, xs, cos, sin, 1, 10, H, D, 0);
  nat.ropeForward(tail, xs.subarray(6 * H * D), cos, sin, 1, 4, H, D, 6);
  assert.deepEqual(tail, all.subarray(6 * H * D));
});

test('ropeBackward (reference) matches finite differences of ropeForward', () => {
  const rng = new Rng(4);
  const B = 2, T = 3, H = 2, D = 6, pos0 = 2, n = B * T * H * D, { cos, sin } = ropeTables(MAXT, D);
  const x = randn(rng, n), wts = randn(rng, n);
  const dx = new Float32Array(n);
  ref.ropeBackward(dx, wts, cos, sin, B, T, H, D, pos0);
  checkGradient('rope dx', x, dx, () => {
    const o = new Float32Array(n);
    ref.ropeForward(o, x, cos, sin, B, T, H, D, pos0);
    return weightedSum(o, wts);
  }, { rng, samples: 20 });
});

test('rope: bad arguments throw naming the op', () => {
  const B = 1, T = 4, H = 2, D = 8, n = B * T * H * D, { cos, sin } = ropeTables(6, D);
  const x = new Float32Array(n);
  for (const k of [nat, ref]) {
    for (const [fn, re] of [[k.ropeForward, /ropeForward/], [k.ropeBackward, /ropeBackward/]] as const) {
      const o = new Float32Array(n);
      assert.doesNotThrow(() => fn(o, x, cos, sin, B, T, H, D, 2)); // pos0 + T = 6 rows: just fits
      assert.throws(() => fn(o, x, cos, sin, B, T, H, D, 3), re); // pos0 + T beyond the table
      assert.throws(() => fn(o, x, cos, sin.subarray(4), B, T, H, D, 2), re);
      assert.throws(() => fn(o, new Float32Array(n), cos, sin, B, T, H, 7, 0), re); // odd D
      assert.throws(() => fn(o, x, cos, sin, B, T, H, 0, 0), re);
      assert.throws(() => fn(o, x.subarray(1), cos, sin, B, T, H, D, 0), re);
      assert.throws(() => fn(o.subarray(1), x, cos, sin, B, T, H, D, 0), re);
      assert.throws(() => fn(o, new Float64Array(n) as never, cos, sin, B, T, H, D, 0), re);
      assert.throws(() => fn(o, x, cos, new Uint16Array(cos.length) as never, B, T, H, D, 0), re);
      assert.throws(() => fn(o, x, cos, sin, B, T, H, D, -1), re);
    }
  }
});
