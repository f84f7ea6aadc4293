// Native flash attention against the plain f64 reference; the reference backward against finite
// differences of the reference forward; argument checking of both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionArgs } from '../../src/core/backend.js';
import { attentionKernels as nat } from '../../src/backends/native/attention.js';
import { attentionKernels as ref } from '../../src/backends/reference/attention.js';
import { addon } from '../../src/backends/native/addon.js';
import { Rng, randn, assertClose, checkGradient, weightedSum } from '../util.js';

// f32 math with a polynomial exp2 (~1e-7 relative) against f64. Measured: forward ≤ 5e-7, backward
// ≤ 3e-6 (the peaky scale = 1 case; dP − rowsum(dout ⊙ out) cancels a little).
const TOL_FWD = 1e-5;
const TOL_BWD = 1e-5;

interface Case { B: number; Tq: number; Tk: number; H: number; Hkv: number; D: number; kvCap?: number; causal: boolean; scale?: number }

function inputs(rng: Rng, c: Case) {
  const kvCap = c.kvCap ?? c.Tk;
  const nq = c.B * c.Tq * c.H * c.D, nkv = c.B * kvCap * c.Hkv * c.D;
  const q = randn(rng, nq), k = randn(rng, nkv), v = randn(rng, nkv);
  // cache rows past Tk are not part of the input: poison them so any read shows up as NaN
  for (let b = 0; b < c.B; b++)
    for (let j = c.Tk; j < kvCap; j++) {
      const o = (b * kvCap + j) * c.Hkv * c.D;
      k.fill(NaN, o, o + c.Hkv * c.D);
      v.fill(NaN, o, o + c.Hkv * c.D);
    }
  return { q, k, v, nq, nkv, args: { ...c } as AttentionArgs };
}

const name = (c: Case) => `B${c.B} Tq${c.Tq} Tk${c.Tk}${c.kvCap ? ` cap${c.kvCap}` : ''} H${c.H}/${c.Hkv} D${c.D}${c.causal ? ' causal' : ''}${c.scale ? ` scale${c.scale}` : ''}`;

const cases: Case[] = [
  { B: 2, Tq: 33, Tk: 33, H: 2, Hkv: 2, D: 64, causal: true },
  { B: 1, Tq: 67, Tk: 67, H: 4, Hkv: 1, D: 16, causal: true },
  { B: 1, Tq: 67, Tk: 67, H: 6, Hkv: 2, D: 32, causal: false },
  { B: 2, Tq: 5, Tk: 5, H: 6, Hkv: 2, D: 17, causal: true },
  { B: 1, Tq: 1, Tk: 1, H: 2, Hkv: 1, D: 3, causal: true },
  { B: 1, Tq: 70, Tk: 70, H: 1, Hkv: 1, D: 128, causal: true },
  { B: 1, Tq: 20, Tk: 20, H: 2, Hkv: 1, D: 80, causal: false },
  { B: 1, Tq: 9, Tk: 9, H: 1, Hkv: 1, D: 136, causal: true },   // D > 128: two column chunks
  { B: 1, Tq: 40, Tk: 40, H: 2, Hkv: 2, D: 48, causal: true, scale: 1 },  // peaky softmax
  { B: 1, Tq: 8, Tk: 8, H: 3, Hkv: 3, D: 8, causal: false },
  // decode and chunked prefill into a KV cache: Tq < Tk ≤ kvCap
  { B: 2, Tq: 1, Tk: 37, kvCap: 50, H: 6, Hkv: 2, D: 64, causal: true },
  { B: 1, Tq: 1, Tk: 300, kvCap: 320, H: 4, Hkv: 1, D: 32, causal: true },  // split-key (flash-decoding) path
  { B: 1, Tq: 7, Tk: 75, kvCap: 80, H: 4, Hkv: 2, D: 16, causal: true },
  { B: 1, Tq: 3, Tk: 10, H: 2, Hkv: 1, D: 5, causal: false },
];

test('attentionForward: native matches the f64 reference (out and lse)', () => {
  const rng = new Rng(1);
  for (const c of cases) {
    const { q, k, v, nq, args } = inputs(rng, c);
    const outN = new Float32Array(nq), outR = new Float32Array(nq);
    const lseN = new Float32Array(c.B * c.H * c.Tq), lseR = new Float32Array(c.B * c.H * c.Tq);
    nat.attentionForward(outN, lseN, q, k, v, args);
    ref.attentionForward(outR, lseR, q, k, v, args);
    assertClose(outN, outR, TOL_FWD, `out ${name(c)}`);
    assertClose(lseN, lseR, TOL_FWD, `lse ${name(c)}`);
    const outNoLse = new Float32Array(nq);
    nat.attentionForward(outNoLse, null, q, k, v, args);  // inference: no lse
    assert.deepEqual(outNoLse, outN, `lse = null changes out (${name(c)})`);
  }
});

function backwardBoth(rng: Rng, c: Case, prefill: boolean) {
  const { q, k, v, nq, nkv, args } = inputs(rng, c);
  const out = new Float32Array(nq), lse = new Float32Array(c.B * c.H * c.Tq);
  nat.attentionForward(out, lse, q, k, v, args);
  const dout = randn(rng, nq);
  const init = (n: number) => (prefill ? randn(rng, n) : new Float32Array(n));
  const dq0 = init(nq), dk0 = init(nkv), dv0 = init(nkv);
  const N = { dq: dq0.slice(), dk: dk0.slice(), dv: dv0.slice() };
  const R = { dq: dq0.slice(), dk: dk0.slice(), dv: dv0.slice() };
  nat.attentionBackward(N.dq, N.dk, N.dv, dout, q, k, v, out, lse, args);
  ref.attentionBackward(R.dq, R.dk, R.dv, dout, q, k, v, out, lse, args);
  return { N, R, dq0, dk0, dv0, q, k, v, dout, out, lse, args };
}

const bwdCases: Case[] = [
  { B: 2, Tq: 33, Tk: 33, H: 2, Hkv: 2, D: 64, causal: true },
  { B: 1, Tq: 67, Tk: 67, H: 4, Hkv: 1, D: 16, causal: true },
  { B: 1, Tq: 67, Tk: 67, H: 6, Hkv: 2, D: 32, causal: false },
  { B: 2, Tq: 5, Tk: 5, H: 6, Hkv: 2, D: 17, causal: true },
  { B: 1, Tq: 1, Tk: 1, H: 1, Hkv: 1, D: 3, causal: true },
  { B: 1, Tq: 70, Tk: 70, H: 1, Hkv: 1, D: 128, causal: true },
  { B: 1, Tq: 9, Tk: 9, H: 1, Hkv: 1, D: 136, causal: false },
  { B: 1, Tq: 40, Tk: 40, H: 2, Hkv: 2, D: 48, causal: true, scale: 1 },
  { B: 1, Tq: 200, Tk: 200, H: 2, Hkv: 1, D: 16, causal: true },  // few (b, kv head) pairs: key-chunk split
  { B: 1, Tq: 7, Tk: 75, kvCap: 80, H: 4, Hkv: 2, D: 16, causal: true },  // beyond training shapes
];

/** assertClose, except that a gradient that is exactly 0 (one key: softmax is constant) needs |x| ≤ 1e-6 */
function closeGrad(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  if (want.every((x) => x === 0)) {
    const worst = got.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assert.ok(worst <= 1e-6, `${what}: expected zeros, got up to ${worst}`);
  } else assertClose(got, want, tol, what);
}

test('attentionBackward: native matches the f64 reference', () => {
  const rng = new Rng(2);
  for (const c of bwdCases) {
    const { N, R } = backwardBoth(rng, c, false);
    closeGrad(N.dq, R.dq, TOL_BWD, `dq ${name(c)}`);
    closeGrad(N.dk, R.dk, TOL_BWD, `dk ${name(c)}`);
    closeGrad(N.dv, R.dv, TOL_BWD, `dv ${name(c)}`);
  }
});

test('attentionBackward: adds into pre-filled gradients (native and reference)', () => {
  // kvCap > Tk: the pre-filled dk/dv rows past Tk must come back unchanged
  const c: Case = { B: 2, Tq: 19, Tk: 19, kvCap: 23, H: 4, Hkv: 2, D: 24, causal: true };
  const fresh = backwardBoth(new Rng(30), c, false);
  const { N, R, dq0, dk0, dv0 } = backwardBoth(new Rng(30), c, true);
  for (const [what, got, start, grad] of [
    ['native dq', N.dq, dq0, fresh.N.dq], ['native dk', N.dk, dk0, fresh.N.dk], ['native dv', N.dv, dv0, fresh.N.dv],
    ['reference dq', R.dq, dq0, fresh.R.dq], ['reference dk', R.dk, dk0, fresh.R.dk], ['reference dv', R.dv, dv0, fresh.R.dv],
  ] as const) {
    const expect = start.map((x, i) => x + grad[i]);
    assertClose(got, expect, 1e-6, what);
  }
});

// With ≥ 2 threads these shapes take the split-key forward and the key-chunked backward.
test('attention: deterministic (split-key forward and key-chunked backward paths included)', () => {
  const rng = new Rng(4);
  for (const c of [
    { B: 1, Tq: 200, Tk: 200, H: 2, Hkv: 1, D: 32, causal: true },
    { B: 1, Tq: 1, Tk: 300, H: 2, Hkv: 1, D: 32, causal: true },
  ] as Case[]) {
    const { q, k, v, nq, nkv, args } = inputs(rng, c);
    const dout = randn(rng, nq);
    const run = () => {
      const out = new Float32Array(nq), lse = new Float32Array(c.B * c.H * c.Tq);
      nat.attentionForward(out, lse, q, k, v, args);
      const dq = new Float32Array(nq), dk = new Float32Array(nkv), dv = new Float32Array(nkv);
      nat.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, args);
      return [out, lse, dq, dk, dv];
    };
    const a = run(), b = run();
    a.forEach((x, i) => assert.deepEqual(x, b[i], `repeat differs, tensor ${i} (${name(c)})`));
  }
});

test('reference attentionBackward matches finite differences of the reference forward', () => {
  const rng = new Rng(5);
  for (const c of [
    { B: 1, Tq: 6, Tk: 6, H: 4, Hkv: 2, D: 5, causal: true },
    { B: 2, Tq: 4, Tk: 4, H: 2, Hkv: 1, D: 3, causal: false },
    { B: 1, Tq: 3, Tk: 7, kvCap: 9, H: 2, Hkv: 1, D: 4, causal: true },
  ] as Case[]) {
    const { q, k, v, nq, nkv, args } = inputs(rng, c);
    const w = randn(rng, nq);
    const out = new Float32Array(nq), lse = new Float32Array(c.B * c.H * c.Tq);
    const loss = () => { ref.attentionForward(out, null, q, k, v, args); return weightedSum(out, w); };
    ref.attentionForward(out, lse, q, k, v, args);
    const dq = new Float32Array(nq), dk = new Float32Array(nkv), dv = new Float32Array(nkv);
    ref.attentionBackward(dq, dk, dv, w, q, k, v, out, lse, args);
    // only probe cache rows that are inputs (rows past Tk hold NaN)
    const live = (x: Float32Array, g: Float32Array) => {
      const n = c.Tk * c.Hkv * c.D, cap = (c.kvCap ?? c.Tk) * c.Hkv * c.D;
      const xs = new Float32Array(c.B * n), gs = new Float32Array(c.B * n);
      for (let b = 0; b < c.B; b++) { xs.set(x.subarray(b * cap, b * cap + n), b * n); gs.set(g.subarray(b * cap, b * cap + n), b * n); }
      const f = () => { for (let b = 0; b < c.B; b++) x.set(xs.subarray(b * n, (b + 1) * n), b * cap); const r = loss(); return r; };
      return { xs, gs, f, restore: f };
    };
    checkGradient(`dq ${name(c)}`, q, dq, loss, { rng, samples: 10, h: 1e-2 });
    for (const [what, x, g] of [['dk', k, dk], ['dv', v, dv]] as const) {
      const L = live(x, g);
      checkGradient(`${what} ${name(c)}`, L.xs, L.gs, L.f, { rng, samples: 10, h: 1e-2 });
      L.restore();
    }
  }
});

test('attention: bad arguments throw, naming the op', () => {
  const c: Case = { B: 1, Tq: 4, Tk: 4, H: 4, Hkv: 2, D: 8, causal: true };
  const { q, k, v, nq, nkv, args } = inputs(new Rng(6), c);
  const out = new Float32Array(nq), lse = new Float32Array(c.B * c.H * c.Tq);
  const dq = new Float32Array(nq), dk = new Float32Array(nkv), dv = new Float32Array(nkv);
  for (const [K, tag] of [[nat, 'attentionForward'], [ref, 'attentionForward']] as const) {
    const fwd = (a: AttentionArgs, o = out, qq = q, kk = k) => () => K.attentionForward(o, lse, qq, kk, v, a);
    const re = (what: string) => new RegExp(`${tag}.*${what}`);
    assert.throws(fwd({ ...args, H: 3 }), re('H'));
    assert.throws(fwd({ ...args, Hkv: 3 }), re('Hkv'));
    assert.throws(fwd({ ...args, Tq: 5 }), re('Tk'));
    assert.throws(fwd({ ...args, kvCap: 3 }), re('kvCap'));
    assert.throws(fwd({ ...args, D: 0 }), re('D'));
    assert.throws(fwd(args, out.subarray(1)), re('out'));
    assert.throws(fwd(args, out, q.subarray(0, nq - 1)), re('q'));
    assert.throws(fwd(args, out, q, k.subarray(8)), re('k'));
    assert.throws(() => K.attentionForward(out, lse.subarray(1), q, k, v, args), re('lse'));
    assert.throws(() => K.attentionForward(out, lse, q, k, new Float32Array(3), args), re("'v'"));
  }
  for (const [K, tag] of [[nat, 'attentionBackward'], [ref, 'attentionBackward']] as const) {
    const re = (what: string) => new RegExp(`${tag}.*${what}`);
    assert.throws(() => K.attentionBackward(dq, dk, dv, out, q, k, v, out, lse, { ...args, Hkv: 3 }), re('Hkv'));
    assert.throws(() => K.attentionBackward(dq, dk, dv, out, q, k, v, out, lse, { ...args, Tk: 3 }), re('Tk'));
    assert.throws(() => K.attentionBackward(dq, dk.subarray(1), dv, out, q, k, v, out, lse, args), re('dk'));
    assert.throws(() => K.attentionBackward(dq, dk, dv, out, q, k, v, out, lse.subarray(2), args), re('lse'));
    assert.throws(() => K.attentionBackward(dq, dk, dv, out, q, k, v, out.subarray(1), lse, args), re('out'));
  }
  // native type checks
  assert.throws(() => addon.attentionForward(out, lse, new Float64Array(nq), k, v, 1, 4, 4, 4, 2, 8, 4, 0.3, true), /attentionForward.*'q'/);
  assert.throws(() => addon.attentionForward(out, lse, q, k, v, 1, 4, 4, 4, 2, 8, 4, 0.3, 1), /attentionForward.*causal/);
  assert.throws(() => addon.attentionForward(out, lse, q, k, v, 1, 4, 4, 4, 2, 8, 4, NaN, true), /attentionForward.*scale/);
});
