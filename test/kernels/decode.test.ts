// Inference kernels of the batched decode step, native against the TypeScript reference on odd shapes:
// the GEMM on prepacked f32 weights (and that a row's result does not depend on the rows batched
// with it), and decodeAttention (RoPE, cache write, attention per sequence; GQA; scattered rows;
// the same result for a sequence alone or in a batch), plus the argument checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKernels as nat } from '../../src/backends/native/decode.js';
import { addon } from '../../src/backends/native/addon.js';
import { decodeKernels as ref } from '../../src/backends/reference/decode.js';
import { ropeTables } from '../../src/ops/rope.js';
import { Rng, randn, assertClose } from '../util.js';

test('matmulPrepacked = the plain product, for every m (small, one A block, several) and odd n, k', () => {
  const rng = new Rng(7);
  for (const [n, k] of [[1, 1], [31, 17], [33, 64], [70, 513], [100, 1100]]) {
    const w = randn(rng, n * k), pn = nat.prepackWeights(w, n, k), pr = ref.prepackWeights(w, n, k);
    for (const m of [0, 1, 3, 5, 14, 15, 16, 17, 40, 350]) {
      const x = randn(rng, m * k), y = new Float32Array(m * n).fill(NaN), yr = new Float32Array(m * n);
      nat.matmulPrepacked(y, x, pn, m);
      ref.matmulPrepacked(yr, x, pr, m);
      assertClose(y, yr, 1e-5, `n=${n} k=${k} m=${m}`);
    }
  }
});

test('matmulPrepacked: a row gives the same bits alone or among others', () => {
  // the one-row kernel takes 4, 2 or 1 column panels at a time: n = 8300 on one thread and in
  // chunks of ~4 panels on two reaches all three (and a partial last panel) besides n = 300
  const before = addon.numThreads();
  try {
    for (const [n, k, threads] of [[300, 700, 2], [8300, 64, 2], [8300, 64, 1], [2200, 96, 2]]) {
      addon.setNumThreads(threads);
      const rng = new Rng(8);
      const w = randn(rng, n * k), p = nat.prepackWeights(w, n, k);
      const x = randn(rng, 40 * k), all = new Float32Array(40 * n);
      nat.matmulPrepacked(all, x, p, 40);
      for (const m of [1, 2, 16]) {
        const y = new Float32Array(m * n);
        nat.matmulPrepacked(y, x.subarray(0, m * k), p, m);
        assert.deepEqual(y, all.subarray(0, m * n), `n=${n} k=${k} threads=${threads} m=${m}`);
      }
    }
  } finally {
    addon.setNumThreads(before);
  }
});

test('matmulPrepacked and prepackWeights refuse bad arguments', () => {
  const w = new Float32Array(40 * 8), p = nat.prepackWeights(w, 40, 8);
  assert.throws(() => nat.matmulPrepacked(new Float32Array(3 * 40 - 1), new Float32Array(3 * 8), p, 3), /'y' holds 119 elements, needs at least 120/);
  assert.throws(() => nat.matmulPrepacked(new Float32Array(40), new Float32Array(8), { ...p, data: p.data.subarray(16) }, 1), /packed/);
  assert.throws(() => nat.prepackWeights(new Float32Array(10), 4, 3), /'w' holds 10 elements, needs at least 12/);
});

interface Case { H: number; Hkv: number; D: number; rows: number[]; pos: number[]; R: number }

function run(k: typeof nat, c: Case, seed: number, keep: { kc: Float32Array[]; vc: Float32Array[] } | null = null) {
  const rng = new Rng(seed), { H, Hkv, D, R } = c, S = c.rows.length, cap = 64;
  const t = ropeTables(cap, D, 10000);
  const q = randn(rng, R * H * D), kn = randn(rng, R * Hkv * D), vn = randn(rng, R * Hkv * D);
  const kc = keep?.kc ?? c.pos.map(() => randn(rng, cap * Hkv * D)), vc = keep?.vc ?? c.pos.map(() => randn(rng, cap * Hkv * D));
  const out = new Float32Array(R * H * D);
  k.decodeAttention(out, q, kn, vn, kc, vc, Int32Array.from(c.rows), Int32Array.from(c.pos), t.cos, t.sin, { H, Hkv, D });
  return { out, kc, vc, S };
}

test('decodeAttention = the reference (GQA, odd head dims, scattered rows, first and later positions)', () => {
  const cases: Case[] = [
    { H: 1, Hkv: 1, D: 2, rows: [0], pos: [0], R: 1 },
    { H: 6, Hkv: 2, D: 18, rows: [3, 0, 5], pos: [0, 17, 40], R: 6 },
    { H: 8, Hkv: 8, D: 64, rows: [1, 0], pos: [63, 5], R: 2 },
    { H: 4, Hkv: 1, D: 130, rows: [0, 1, 2, 3, 4], pos: [1, 2, 3, 30, 60], R: 5 },
  ];
  cases.forEach((c, i) => {
    const a = run(nat, c, 100 + i), b = run(ref, c, 100 + i);
    for (let s = 0; s < a.S; s++) {
      const { H, D, Hkv } = c, r = c.rows[s], p = c.pos[s], ld = Hkv * D;
      assertClose(a.out.subarray(r * H * D, (r + 1) * H * D), b.out.subarray(r * H * D, (r + 1) * H * D), 2e-6, `case ${i} seq ${s} out`);
      assertClose(a.kc[s].subarray(p * ld, (p + 1) * ld), b.kc[s].subarray(p * ld, (p + 1) * ld), 1e-6, `case ${i} seq ${s} k written`);
      assert.deepEqual(a.vc[s], b.vc[s], `case ${i} seq ${s} v cache`);
      // nothing but row p is written
      assert.deepEqual(a.kc[s].subarray(0, p * ld), b.kc[s].subarray(0, p * ld));
    }
  });
});

test('decodeAttention: a sequence gets the same bits alone as in a batch', () => {
  const c: Case = { H: 6, Hkv: 3, D: 32, rows: [2, 0, 1, 3], pos: [9, 50, 0, 33], R: 4 };
  const all = run(nat, c, 5);
  // the same inputs (same seed), one sequence per call
  const rng = new Rng(5), { H, Hkv, D, R } = c, cap = 64, t = ropeTables(cap, D, 10000);
  const q = randn(rng, R * H * D), kn = randn(rng, R * Hkv * D), vn = randn(rng, R * Hkv * D);
  const kc = c.pos.map(() => randn(rng, cap * Hkv * D)), vc = c.pos.map(() => randn(rng, cap * Hkv * D));
  const out = new Float32Array(R * H * D);
  for (let s = 0; s < 4; s++) {
    nat.decodeAttention(out, q, kn, vn, [kc[s]], [vc[s]], Int32Array.of(c.rows[s]), Int32Array.of(c.pos[s]), t.cos, t.sin, { H, Hkv, D });
  }
  assert.deepEqual(out, all.out);
  assert.deepEqual(kc, all.kc);
});

test('decodeAttention refuses what would race or read past a cache', () => {
  const H = 2, Hkv = 1, D = 4, t = ropeTables(8, D, 10000);
  const q = new Float32Array(2 * H * D), kn = new Float32Array(2 * D), vn = new Float32Array(2 * D), out = new Float32Array(2 * H * D);
  const c = () => new Float32Array(8 * D);
  const call = (rows: number[], pos: number[], kc: Float32Array[], vc: Float32Array[]) =>
    nat.decodeAttention(out, q, kn, vn, kc, vc, Int32Array.from(rows), Int32Array.from(pos), t.cos, t.sin, { H, Hkv, D });
  const shared = c();
  assert.throws(() => call([0, 0], [1, 1], [c(), c()], [c(), c()]), /rows must be distinct/);
  assert.throws(() => call([0, 1], [1, 1], [shared, shared], [c(), c()]), /caches must be distinct/);
  assert.throws(() => call([0], [8], [c()], [c()]), /needs at least/);
  assert.throws(() => call([0], [1], [c()], []), /vCaches must be an array with one Float32Array per sequence/);
  assert.throws(() => call([2], [1], [c()], [c()]), /'out' holds 16 elements, needs at least 24/);
  assert.throws(() => nat.decodeAttention(out, q, kn, vn, [c()], [c()], Int32Array.of(0), Int32Array.of(0), t.cos, t.sin, { H: 3, Hkv: 2, D }), /multiple of Hkv/);
});
