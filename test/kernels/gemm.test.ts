// native.gemm against reference.gemm (f64 accumulation): every transpose combination, odd sizes,
// padded leading dimensions, batches with strides (0 = shared), alpha/beta, bf16 storage and bf16
// compute, the small-m path, determinism across thread counts, and argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gemmKernels as nat, gemmCaps } from '../../src/backends/native/gemm.js';
import { gemmKernels as ref, roundBf16 } from '../../src/backends/reference/gemm.js';
import { addon } from '../../src/backends/native/addon.js';
import type { GemmArgs } from '../../src/core/backend.js';
import { Rng, randn, relErr, assertClose } from '../util.js';

/** f32 -> bf16 bits, round-to-nearest-even */
function toBf16(x: Float32Array): Uint16Array {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    f[0] = roundBf16(x[i]);
    out[i] = u[0] >>> 16;
  }
  return out;
}

interface Case {
  m: number; n: number; k: number; transA?: boolean; transB?: boolean;
  padA?: number; padB?: number; padC?: number; alpha?: number; beta?: number;
  batch?: number; strideA?: number; strideB?: number; strideC?: number;
  aBf16?: boolean; bBf16?: boolean; bf16?: boolean;
}

/** Runs one case through both backends on identical inputs; returns [native C, reference C]. */
function runBoth(rng: Rng, cs: Case): [Float32Array, Float32Array, GemmArgs] {
  const { m, n, k } = cs;
  const tA = cs.transA ?? false, tB = cs.transB ?? false;
  const lda = Math.max(1, (tA ? m : k) + (cs.padA ?? 0)), ldb = Math.max(1, (tB ? k : n) + (cs.padB ?? 0));
  const ldc = Math.max(1, n + (cs.padC ?? 0));
  const batch = cs.batch ?? 1;
  const sA = cs.strideA ?? (tA ? k : m) * lda, sB = cs.strideB ?? (tB ? n : k) * ldb, sC = cs.strideC ?? m * ldc;
  const lenA = (batch - 1) * sA + (tA ? k : m) * lda, lenB = (batch - 1) * sB + (tB ? n : k) * ldb;
  const lenC = (batch - 1) * sC + m * ldc;
  const af = randn(rng, Math.max(1, lenA)), bf = randn(rng, Math.max(1, lenB));
  const a = cs.aBf16 ? toBf16(af) : af, b = cs.bBf16 ? toBf16(bf) : bf;
  const c0 = randn(rng, Math.max(1, lenC));
  const beta = cs.beta ?? 0;
  if (beta === 0) c0.fill(NaN);  // must never leak into the result
  const cn = c0.slice(), cr = c0.slice();
  const args = {
    m, n, k, a, b, transA: tA, transB: tB, alpha: cs.alpha ?? 1, beta, lda, ldb, ldc,
    batch, strideA: sA, strideB: sB, strideC: sC, bf16: cs.bf16 ?? false,
  };
  nat.gemm({ ...args, c: cn });
  ref.gemm({ ...args, c: cr });
  if (beta === 0) {  // NaN-filled padding stays as it was: compare it as 0
    for (let i = 0; i < cn.length; i++) if (Number.isNaN(cr[i]) && Number.isNaN(cn[i])) cn[i] = cr[i] = 0;
  }
  return [cn, cr, { ...args, c: cn }];
}

function check(rng: Rng, cs: Case, tol = 1e-5): void {
  const [cn, cr] = runBoth(rng, cs);
  assertClose(cn, cr, tol, `gemm ${JSON.stringify(cs)}`);
}

const rng = new Rng(42);

test('gemm f32: all transpose combinations over odd sizes', () => {
  const ms = [1, 2, 3, 4, 5, 14, 15, 17, 33, 65, 127];
  const ns = [1, 3, 17, 32, 33, 65];
  const ks = [1, 3, 16, 17, 65, 127];
  let i = 0;
  for (const m of ms) for (const n of ns) for (const k of ks) {
    // every combination of transposes for each shape class, rotated to keep the run short
    const t = i++ % 4;
    check(rng, { m, n, k, transA: (t & 1) === 1, transB: (t & 2) === 2 });
  }
  for (const t of [0, 1, 2, 3]) check(rng, { m: 127, n: 65, k: 127, transA: (t & 1) === 1, transB: (t & 2) === 2 });
});

test('gemm f32: multi-block and threaded shapes (several k blocks, many panels)', () => {
  for (const t of [0, 1, 2, 3]) {
    check(rng, { m: 150, n: 200, k: 600, transA: (t & 1) === 1, transB: (t & 2) === 2, beta: t === 3 ? 0.5 : 0 });
  }
  check(rng, { m: 700, n: 40, k: 90 });  // tall: split across M
  check(rng, { m: 20, n: 900, k: 70, transB: true });  // wide: split across N
});

test('gemm: leading dimensions larger than the minimum, padding untouched', () => {
  for (const t of [0, 1, 2, 3]) {
    for (const beta of [0, 1, -0.5]) {
      check(rng, { m: 19, n: 37, k: 23, transA: (t & 1) === 1, transB: (t & 2) === 2, padA: 5, padB: 3, padC: 7, beta });
      check(rng, { m: 3, n: 37, k: 23, transA: (t & 1) === 1, transB: (t & 2) === 2, padA: 2, padB: 9, padC: 1, beta });
    }
  }
});

test('gemm: alpha and beta; beta = 0 ignores NaN in C; alpha = 0 or k = 0 scales C', () => {
  check(rng, { m: 33, n: 17, k: 65, alpha: -0.75, beta: 1.5 });
  check(rng, { m: 2, n: 17, k: 65, alpha: 2, beta: 1 });
  const [cn] = runBoth(rng, { m: 40, n: 40, k: 40, beta: 0 });
  assert.ok(cn.every((x) => Number.isFinite(x)), 'beta = 0 leaked NaN from C');
  const [cn2] = runBoth(rng, { m: 3, n: 40, k: 40, beta: 0 });
  assert.ok(cn2.every((x) => Number.isFinite(x)), 'beta = 0 leaked NaN from C (small m)');
  check(rng, { m: 9, n: 11, k: 0, beta: 0.5 });
  check(rng, { m: 9, n: 11, k: 0, beta: 0 });
  check(rng, { m: 9, n: 11, k: 5, alpha: 0, beta: 2 });
  check(rng, { m: 0, n: 11, k: 5 });
  check(rng, { m: 9, n: 0, k: 5 });
});

test('gemm: batches with strides, shared (stride 0) A or B, accumulation into one C', () => {
  check(rng, { m: 17, n: 33, k: 19, batch: 4 });
  check(rng, { m: 17, n: 33, k: 19, batch: 3, strideA: 0, transB: true });
  check(rng, { m: 17, n: 33, k: 19, batch: 3, strideB: 0, transA: true });
  check(rng, { m: 2, n: 33, k: 19, batch: 5, strideB: 0 });
  check(rng, { m: 65, n: 70, k: 80, batch: 3, strideB: 0, padC: 3 });  // one product per thread
  check(rng, { m: 260, n: 200, k: 200, batch: 2, strideB: 0, transB: true });  // products threaded one by one
  check(rng, { m: 17, n: 33, k: 19, batch: 3, strideA: 17 * 19 + 5, strideC: 17 * 33 + 2, padA: 0 });
  // strideC = 0 with beta = 1: the products add up in C, one after the other
  check(rng, { m: 16, n: 20, k: 24, batch: 3, strideC: 0, beta: 1 });
});

test('gemm: bf16 storage (exact widening, f32 accumulation)', () => {
  for (const t of [0, 1, 2, 3]) {
    const transA = (t & 1) === 1, transB = (t & 2) === 2;
    check(rng, { m: 33, n: 47, k: 61, transA, transB, aBf16: true });
    check(rng, { m: 33, n: 47, k: 61, transA, transB, bBf16: true, padB: 3 });
    check(rng, { m: 1, n: 47, k: 61, transA, transB, aBf16: true, bBf16: true });
    check(rng, { m: 129, n: 65, k: 300, transA, transB, aBf16: true, bBf16: true, beta: 1 });
  }
});

test('gemm: bf16 compute matches the bf16-rounded f64 reference and differs from f32', () => {
  for (const t of [0, 1, 2, 3]) {
    const transA = (t & 1) === 1, transB = (t & 2) === 2;
    for (const [m, n, k] of [[1, 33, 17], [3, 65, 33], [4, 16, 1], [17, 33, 3], [33, 65, 127], [40, 33, 1100]]) {
      check(rng, { m, n, k, transA, transB, bf16: true, padA: t, beta: t === 2 ? 1 : 0 });
    }
    check(rng, { m: 20, n: 40, k: 65, transA, transB, bf16: true, bBf16: true });
  }
  // the rounding really happens: against an f32 product the error is bf16-sized
  const [cn, , args] = runBoth(rng, { m: 40, n: 40, k: 64, bf16: true });
  const exact = new Float32Array(cn.length);
  ref.gemm({ ...args, c: exact, bf16: false, beta: 0 });
  const e = relErr(cn, exact);
  assert.ok(e > 1e-4 && e < 2e-2, `bf16 compute vs f32 product: relative error ${e}`);
});

test('gemm: same bits whatever the thread count', () => {
  const before = addon.numThreads() as number;
  const shapes: Array<[number, number, number, boolean]> = [[200, 300, 700, false], [3, 2000, 300, false], [100, 90, 1030, true]];
  try {
    for (const [m, n, k, bf16] of shapes) {
      const args = { m, n, k, a: randn(rng, m * k), b: randn(rng, k * n), bf16 };
      const c2 = new Float32Array(m * n), c1 = new Float32Array(m * n);
      addon.setNumThreads(2);
      nat.gemm({ ...args, c: c2 });
      addon.setNumThreads(1);
      nat.gemm({ ...args, c: c1 });
      addon.setNumThreads(before);
      assert.deepEqual(c1, c2, `thread count changed the result of ${m}x${k}x${n}`);
    }
  } finally {
    addon.setNumThreads(before);
  }
});

test('gemm: the build reports its code path', () => {
  const caps = gemmCaps();
  assert.ok(['avx512', 'avx2', 'scalar'].includes(caps.isa), `isa ${caps.isa}`);
  assert.equal(typeof caps.bf16Kernel, 'boolean');
  assert.ok(caps.mr > 0 && caps.nr > 0);
});

test('gemm: bad arguments throw errors naming gemm', () => {
  const a = new Float32Array(12), b = new Float32Array(12), c = new Float32Array(9);
  const ok: GemmArgs = { m: 3, n: 3, k: 4, a, b, c };
  for (const kern of [nat, ref]) {
    kern.gemm(ok);  // the base case is valid
    const bad: Array<[string, Partial<GemmArgs>]> = [
      ['short a', { a: new Float32Array(11) }],
      ['short b', { b: new Float32Array(11) }],
      ['short c', { c: new Float32Array(8) }],
      ['short padded c', { ldc: 4 }],
      ['lda too small', { lda: 3 }],
      ['ldb too small', { ldb: 2 }],
      ['ldc too small', { ldc: 2 }],
      ['ldb too small (transB)', { transB: true, ldb: 3 }],
      ['negative m', { m: -1 }],
      ['fractional k', { k: 2.5 }],
      ['int a', { a: new Int32Array(12) as unknown as Float32Array }],
      ['f64 b', { b: new Float64Array(12) as unknown as Float32Array }],
      ['bf16 c', { c: new Uint16Array(9) as unknown as Float32Array }],
      ['batch past the end', { batch: 2 }],
      ['non-finite alpha', { alpha: NaN }],
    ];
    for (const [what, patch] of bad) {
      assert.throws(() => kern.gemm({ ...ok, ...patch }), /gemm/, `${kern === nat ? 'native' : 'reference'}: ${what}`);
    }
  }
  // native only: C overlapping an input
  const shared = new Float32Array(64);
  assert.throws(() => nat.gemm({ m: 3, n: 3, k: 3, a: shared, b: new Float32Array(9), c: shared.subarray(4, 13) }), /gemm.*overlap/);
});
