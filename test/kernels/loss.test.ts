// Cross-entropy: native against the f64 reference on many shapes (vocabularies up to DeepSeek's
// 102400), ignored rows, dlogits written over logits, extreme logits, the reference gradient
// against finite differences of its loss, and bad inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, randn, randIds, assertClose, checkGradient } from '../util.js';
import { lossKernels as nat } from '../../src/backends/native/loss.js';
import { lossKernels as ref } from '../../src/backends/reference/loss.js';

const SHAPES: Array<[number, number]> = [[1, 1], [3, 2], [4, 7], [5, 16], [3, 17], [6, 33], [7, 127], [4, 1000], [9, 4099], [3, 32000], [2, 102400]];

function run(k: typeof nat, logits: Float32Array, targets: Int32Array, N: number, V: number, ignore: number, scale: number, grad = true) {
  const losses = new Float32Array(N), d = grad ? new Float32Array(N * V).fill(NaN) : null;
  k.crossEntropy(losses, d, logits, targets, N, V, ignore, scale);
  return { losses, d };
}

test('crossEntropy: native = f64 reference (1e-5) on many shapes, with ignored rows', () => {
  const rng = new Rng(21);
  for (const [N, V] of SHAPES) {
    const logits = randn(rng, N * V, 3);
    const targets = randIds(rng, N, V);
    if (N > 2) targets[1] = -100;
    const scale = 1 / N;
    const a = run(nat, logits, targets, N, V, -100, scale), b = run(ref, logits, targets, N, V, -100, scale);
    assertClose(a.losses, b.losses, 1e-5, `losses N=${N} V=${V}`);
    assertClose(a.d!, b.d!, 1e-5, `dlogits N=${N} V=${V}`);
    if (N > 2) {
      assert.equal(a.losses[1], 0, 'ignored row loss');
      assert.ok(a.d!.subarray(V, 2 * V).every((x) => x === 0), 'ignored row gradient is zero');
    }
    // each gradient row sums to 0 (softmax sums to 1): a check independent of the reference
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let j = 0; j < V; j++) s += a.d![i * V + j];
      assert.ok(Math.abs(s) <= 1e-5 * scale, `row ${i} gradient sums to ${s}`);
    }
    const c = run(nat, logits, targets, N, V, -100, scale, false);
    assert.deepEqual(c.losses, a.losses, 'losses without dlogits');
  }
});

test('crossEntropy: known values, ignoreIndex inside the vocabulary, N = 0, NaN propagates', () => {
  // uniform logits: loss = log V, gradient = (1/V − onehot)·scale
  const V = 50, N = 3;
  const logits = new Float32Array(N * V).fill(0.7);
  const targets = new Int32Array([4, 0, 49]);
  const a = run(nat, logits, targets, N, V, 0, 2);  // ignoreIndex 0: row 1 is ignored
  assertClose(a.losses, [Math.log(V), 0, Math.log(V)], 1e-6, 'uniform losses');
  assert.ok(Math.abs(a.d![4] - 2 * (1 / V - 1)) < 1e-6 && Math.abs(a.d![5] - 2 / V) < 1e-6);
  assert.ok(a.d!.subarray(V, 2 * V).every((x) => x === 0));
  for (const k of [nat, ref]) k.crossEntropy(new Float32Array(0), null, new Float32Array(0), new Int32Array(0), 0, 0, -100, 1);  // N = 0: no-op
  const x = randn(new Rng(5), 2 * 40);
  x[47] = NaN;
  for (const k of [nat, ref]) {
    const r = run(k, x, new Int32Array([1, 2]), 2, 40, -100, 1);
    assert.ok(Number.isFinite(r.losses[0]) && Number.isNaN(r.losses[1]), `${k === nat ? 'native' : 'reference'} NaN row`);
  }
});

test('crossEntropy: dlogits may alias logits; extreme logits stay finite', () => {
  const rng = new Rng(22);
  for (const [N, V] of [[5, 33], [4, 1000], [2, 32003]] as Array<[number, number]>) {
    const logits = randn(rng, N * V, 2);
    const targets = randIds(rng, N, V); targets[0] = -1;
    const a = run(nat, logits, targets, N, V, -1, 0.5);
    for (const k of [nat, ref]) {
      const inPlace = logits.slice(), losses = new Float32Array(N);
      k.crossEntropy(losses, inPlace, inPlace, targets, N, V, -1, 0.5);
      assertClose(losses, a.losses, 1e-5, `aliased losses V=${V}`);
      assertClose(inPlace, a.d!, 1e-5, `aliased dlogits V=${V}`);
    }
  }
  // ±1e4: the max shift keeps every exponential in range
  const N = 4, V = 300;
  const big = randn(rng, N * V, 1e4);
  const targets = randIds(rng, N, V);
  const a = run(nat, big, targets, N, V, -100, 1), b = run(ref, big, targets, N, V, -100, 1);
  assert.ok(a.losses.every(Number.isFinite) && a.d!.every(Number.isFinite), 'finite under ±1e4 logits');
  assertClose(a.losses, b.losses, 1e-5, 'large-logit losses');
  assertClose(a.d!, b.d!, 1e-5, 'large-logit dlogits');
});

test('crossEntropy: reference gradient = finite differences of its loss', () => {
  const rng = new Rng(23);
  const N = 4, V = 11, scale = 0.7;
  const logits = randn(rng, N * V);
  const targets = randIds(rng, N, V); targets[2] = -100;
  const { d } = run(ref, logits, targets, N, V, -100, scale);
  const losses = new Float32Array(N);
  const f = () => {
    ref.crossEntropy(losses, null, logits, targets, N, V, -100, scale);
    return scale * losses.reduce((s, x) => s + x, 0);
  };
  checkGradient('crossEntropy dlogits', logits, d!, f, { rng, samples: 30, h: 1e-2, tol: 1e-2 });
});

test('crossEntropy rejects bad arguments, naming the op', () => {
  const N = 3, V = 5;
  const l = new Float32Array(N), x = new Float32Array(N * V), t = new Int32Array([0, 4, -100]);
  for (const k of [nat, ref]) {
    k.crossEntropy(l, x, x, t, N, V, -100, 1);  // valid
    assert.throws(() => k.crossEntropy(l, null, x, new Int32Array([0, 5, 1]), N, V, -100, 1), /crossEntropy.*targets\[1\] = 5/);
    assert.throws(() => k.crossEntropy(l, null, x, new Int32Array([0, 1, -1]), N, V, -100, 1), /crossEntropy.*targets\[2\] = -1/);
    assert.throws(() => k.crossEntropy(l, null, new Float32Array(14), t, N, V, -100, 1), /crossEntropy.*logits/);
    assert.throws(() => k.crossEntropy(l, new Float32Array(14), x, t, N, V, -100, 1), /crossEntropy.*dlogits/);
    assert.throws(() => k.crossEntropy(new Float32Array(2), null, x, t, N, V, -100, 1), /crossEntropy.*losses/);
    assert.throws(() => k.crossEntropy(l, null, x, new Int32Array(2), N, V, -100, 1), /crossEntropy.*targets/);
    assert.throws(() => k.crossEntropy(l, null, x, new Float32Array(3) as never, N, V, -100, 1), /crossEntropy.*targets/);
    assert.throws(() => k.crossEntropy(l, null, new Uint16Array(15) as never, t, N, V, -100, 1), /crossEntropy.*logits/);
    assert.throws(() => k.crossEntropy(l, null, x, t, N, V, -100.5, 1), /crossEntropy.*ignoreIndex/);
    assert.throws(() => k.crossEntropy(l, null, x, t, N, V, -100, NaN), /crossEntropy.*gradScale/);
    assert.throws(() => k.crossEntropy(l, null, x, t, N, 0, -100, 1), /crossEntropy.*V/);
  }
});
