// AdamW: native against the reference (which mirrors torch's f32 op order) over several steps, the
// reference against a plain f64 AdamW, the bf16 copy of the parameters; sumSquares in f64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, randn, assertClose } from '../util.js';
import { optimKernels as nat } from '../../src/backends/native/optim.js';
import { optimKernels as ref } from '../../src/backends/reference/optim.js';
import { convertKernels as conv } from '../../src/backends/reference/convert.js';

const SIZES = [0, 1, 3, 7, 15, 17, 33, 127, 1000, 100003];
const H = { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, wd: 0.1 };

test('adamw: native = reference (~1e-6) over 5 steps, many sizes, bf16 copy consistent', () => {
  const rng = new Rng(11);
  for (const n of SIZES) {
    const p0 = randn(rng, n, 0.5);
    const state = [0, 1].map(() => ({ p: p0.slice(), m: new Float32Array(n), v: new Float32Array(n), pb: new Uint16Array(n) }));
    for (let step = 1; step <= 5; step++) {
      const g = randn(rng, n, step);  // growing gradients: moments change scale across steps
      const gs = step === 3 ? 0.25 : 1;
      for (const [k, s] of [[nat, state[0]], [ref, state[1]]] as const)
        k.adamw(s.p, g, s.m, s.v, n, H.lr, H.beta1, H.beta2, H.eps, H.wd, step, gs, s.pb);
    }
    const [a, b] = state;
    assertClose(a.p, b.p, 1e-6, `param n=${n}`);
    assertClose(a.m, b.m, 1e-6, `m n=${n}`);
    assertClose(a.v, b.v, 1e-6, `v n=${n}`);
    const pb = new Uint16Array(n); conv.f32ToBf16(pb, a.p, n);
    assert.deepEqual(a.pb, pb, `native paramBf16 is bf16(param), n=${n}`);
    const pbr = new Uint16Array(n); conv.f32ToBf16(pbr, b.p, n);
    assert.deepEqual(b.pb, pbr, `reference paramBf16 is bf16(param), n=${n}`);
  }
});

test('adamw: reference matches textbook AdamW in f64; paramBf16 null leaves nothing written', () => {
  const rng = new Rng(12);
  const n = 257;
  const p = randn(rng, n), m = new Float32Array(n), v = new Float32Array(n);
  const P = Float64Array.from(p), M = new Float64Array(n), V = new Float64Array(n);
  for (let step = 1; step <= 4; step++) {
    const g = randn(rng, n);
    for (let i = 0; i < n; i++) {
      const gi = g[i] * 0.5;
      P[i] *= 1 - H.lr * H.wd;
      M[i] = H.beta1 * M[i] + (1 - H.beta1) * gi;
      V[i] = H.beta2 * V[i] + (1 - H.beta2) * gi * gi;
      const mhat = M[i] / (1 - H.beta1 ** step), vhat = V[i] / (1 - H.beta2 ** step);
      P[i] -= H.lr * mhat / (Math.sqrt(vhat) + H.eps);
    }
    ref.adamw(p, g, m, v, n, H.lr, H.beta1, H.beta2, H.eps, H.wd, step, 0.5, null);
    nat.adamw(new Float32Array(n), g, new Float32Array(n), new Float32Array(n), n, H.lr, H.beta1, H.beta2, H.eps, H.wd, step, 0.5, null);
  }
  assertClose(p, P, 1e-6, 'param');
  assertClose(m, M, 1e-6, 'm');
  assertClose(v, V, 1e-6, 'v');
  // first step, no decay: the update is lr·sign(g) (|m̂| = sqrt(v̂))
  const q = new Float32Array([1, 1]), g = new Float32Array([2, -3]);
  nat.adamw(q, g, new Float32Array(2), new Float32Array(2), 2, 0.01, 0.9, 0.999, 0, 0, 1, 1, null);
  assertClose(q, [0.99, 1.01], 1e-6, 'step 1');
});

test('sumSquares: f64 sum, native = reference, deterministic', () => {
  const rng = new Rng(13);
  for (const n of [...SIZES, 1000003]) {
    const x = randn(rng, n, 3);
    const a = nat.sumSquares(x, n), b = ref.sumSquares(x, n);
    assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(b, 1e-300), `n=${n}: ${a} vs ${b}`);
  }
  // f32 accumulation would lose this: 2^24 ones plus small values
  const y = new Float32Array((1 << 24) + 64).fill(1);
  for (let i = 1 << 24; i < y.length; i++) y[i] = 0.25;
  assert.equal(nat.sumSquares(y, y.length), 2 ** 24 + 64 / 16);
  // fixed-size blocks summed in block order: repeat calls agree to the bit (and the block split does
  // not depend on the thread count)
  const x = randn(rng, 300007);
  assert.equal(nat.sumSquares(x, x.length), nat.sumSquares(x, x.length));
});

test('optim ops reject bad arguments, naming the op', () => {
  const f = new Float32Array(8), s = new Float32Array(4);
  for (const k of [nat, ref]) {
    const call = (o: Partial<{ p: Float32Array; g: Float32Array; m: Float32Array; v: Float32Array; lr: number; b1: number;
      b2: number; eps: number; wd: number; step: number; gs: number; pb: Uint16Array | null }>) =>
      () => k.adamw(o.p ?? f, o.g ?? f, o.m ?? f, o.v ?? f, 8, o.lr ?? 1e-3, o.b1 ?? 0.9, o.b2 ?? 0.95, o.eps ?? 1e-8,
        o.wd ?? 0, o.step ?? 1, o.gs ?? 1, o.pb === undefined ? null : o.pb);
    call({})();  // valid
    assert.throws(call({ g: s }), /adamw.*grad/);
    assert.throws(call({ v: s }), /adamw.*'v'/);
    assert.throws(call({ m: new Uint16Array(8) as never }), /adamw.*'m'/);
    assert.throws(call({ pb: new Uint16Array(4) }), /adamw.*paramBf16/);
    assert.throws(call({ pb: new Float32Array(8) as never }), /adamw.*paramBf16/);
    assert.throws(call({ b1: 1 }), /adamw.*beta1/);
    assert.throws(call({ b2: -0.1 }), /adamw.*beta2/);
    assert.throws(call({ step: 0 }), /adamw.*step/);
    assert.throws(call({ lr: NaN }), /adamw.*lr/);
    assert.throws(call({ gs: Infinity }), /adamw.*gradScale/);
    assert.throws(() => k.sumSquares(f, 9), /sumSquares/);
    assert.throws(() => k.sumSquares(new Int32Array(8) as never, 8), /sumSquares/);
  }
});
