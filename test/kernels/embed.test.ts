// Embedding: native vs reference (exact: a gather copies, the scatter-add sums in ascending i on
// both), bf16 tables, thread-count independence (via the serial reference), finite differences, += semantics, bad ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embedKernels as nat } from '../../src/backends/native/embed.js';
import { embedKernels as ref } from '../../src/backends/reference/embed.js';
import { Rng, randn, randIds, checkGradient, weightedSum } from '../util.js';

/** f32 → bf16 bit patterns, round to nearest even */
function toBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length), out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16;
  return out;
}
function fromBf16(b: Uint16Array): Float32Array {
  return new Float32Array(Uint32Array.from(b, (v) => v << 16).buffer);
}

// [N, C, V]; small V so ids repeat and the backward really accumulates
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [5, 3, 7], [33, 17, 10], [127, 129, 50], [16, 33, 3], [300, 256, 64], [2000, 48, 97],
];

test('embeddingForward: native equals reference (f32 and bf16 tables)', () => {
  const rng = new Rng(1);
  for (const [N, C, V] of SHAPES) {
    const table = randn(rng, V * C), ids = randIds(rng, N, V), tb = toBf16(table);
    const o1 = new Float32Array(N * C), o2 = new Float32Array(N * C);
    nat.embeddingForward(o1, ids, table, N, C, V);
    ref.embeddingForward(o2, ids, table, N, C, V);
    assert.deepEqual(o1, o2, `f32 N=${N} C=${C} V=${V}`);
    for (let i = 0; i < N; i++) assert.deepEqual(o1.subarray(i * C, (i + 1) * C), table.subarray(ids[i] * C, (ids[i] + 1) * C));
    nat.embeddingForward(o1, ids, tb, N, C, V);
    ref.embeddingForward(o2, ids, tb, N, C, V);
    assert.deepEqual(o1, o2, `bf16 N=${N} C=${C} V=${V}`);
    const wide = fromBf16(tb);
    nat.embeddingForward(o2, ids, wide, N, C, V);
    assert.deepEqual(o1, o2, `bf16 widened N=${N} C=${C} V=${V}`);
  }
});

// The reference sums serially in ascending i, so bit equality with it on shapes that run on several
// threads (the last two) shows the native result does not depend on the thread count.
test('embeddingBackward: native equals reference bit for bit and adds into dtable', () => {
  const rng = new Rng(2);
  for (const [N, C, V] of SHAPES) {
    const dout = randn(rng, N * C), ids = randIds(rng, N, V), d0 = randn(rng, V * C);
    const d1 = d0.slice(), d2 = d0.slice();
    nat.embeddingBackward(d1, dout, ids, N, C, V);
    ref.embeddingBackward(d2, dout, ids, N, C, V);
    assert.deepEqual(d1, d2, `N=${N} C=${C} V=${V}`);
    assert.notDeepEqual(d1, d0);
    const d3 = d1.slice();
    nat.embeddingBackward(d3, dout, ids, N, C, V); // a second call adds again
    ref.embeddingBackward(d2, dout, ids, N, C, V);
    assert.deepEqual(d3, d2, `second call N=${N} C=${C} V=${V}`);
  }
});

test('embeddingBackward (reference) matches finite differences of embeddingForward', () => {
  const rng = new Rng(3), N = 9, C = 5, V = 4;
  const table = randn(rng, V * C), ids = randIds(rng, N, V), wts = randn(rng, N * C);
  const dtable = new Float32Array(V * C);
  ref.embeddingBackward(dtable, wts, ids, N, C, V);
  checkGradient('dtable', table, dtable, () => {
    const o = new Float32Array(N * C);
    ref.embeddingForward(o, ids, table, N, C, V);
    return weightedSum(o, wts);
  }, { rng, samples: 20 });
});

test('embedding: out-of-range ids throw naming the op, the position and the id; nothing is written', () => {
  const N = 6, C = 4, V = 5, table = new Float32Array(V * C).fill(1);
  for (const bad of [-1, 5, 2147483647, -2147483648]) {
    const ids = Int32Array.from([0, 1, 2, bad, 4, 0]);
    for (const k of [nat, ref]) {
      const out = new Float32Array(N * C), dtable = new Float32Array(V * C);
      assert.throws(() => k.embeddingForward(out, ids, table, N, C, V),
        (e: Error) => /embeddingForward/.test(e.message) && e.message.includes(`ids[3] = ${bad}`));
      assert.throws(() => k.embeddingBackward(dtable, out.fill(1), ids, N, C, V),
        (e: Error) => /embeddingBackward/.test(e.message) && e.message.includes(`ids[3] = ${bad}`));
      assert.ok(dtable.every((v) => v === 0), 'dtable untouched');
    }
    // the native forward checks every id before it writes anything
    const out = new Float32Array(N * C);
    assert.throws(() => nat.embeddingForward(out, ids, table, N, C, V));
    assert.ok(out.every((v) => v === 0), 'out untouched');
  }
  // ids past N are not read
  const ids = Int32Array.from([1, 2, 99]), out = new Float32Array(2 * C);
  nat.embeddingForward(out, ids, table, 2, C, V);
});

test('embedding: bad arguments throw naming the op', () => {
  const N = 3, C = 4, V = 5, ids = Int32Array.from([0, 1, 2]), table = new Float32Array(V * C);
  for (const k of [nat, ref]) {
    const f = /embeddingForward/, b = /embeddingBackward/;
    assert.throws(() => k.embeddingForward(new Float32Array(N * C - 1), ids, table, N, C, V), f);
    assert.throws(() => k.embeddingForward(new Float32Array(N * C), ids.subarray(1), table, N, C, V), f);
    assert.throws(() => k.embeddingForward(new Float32Array(N * C), ids, table.subarray(1), N, C, V), f);
    assert.throws(() => k.embeddingForward(new Float32Array(N * C), ids, new Float64Array(V * C) as never, N, C, V), f);
    assert.throws(() => k.embeddingForward(new Float32Array(N * C), new Float32Array(N) as never, table, N, C, V), f);
    assert.throws(() => k.embeddingForward(new Float32Array(N * C), ids, table, N, -C, V), f);
    assert.throws(() => k.embeddingBackward(new Float32Array(V * C - 1), new Float32Array(N * C), ids, N, C, V), b);
    assert.throws(() => k.embeddingBackward(new Float32Array(V * C), new Float32Array(N * C - 1), ids, N, C, V), b);
    assert.throws(() => k.embeddingBackward(new Uint16Array(V * C) as never, new Float32Array(N * C), ids, N, C, V), b);
    assert.throws(() => k.embeddingBackward(new Float32Array(V * C), new Float32Array(N * C), ids, N, C, 1.5), b);
  }
});
