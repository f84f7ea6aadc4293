// Elementwise ops: native against reference (bit-exact: both round each f32 op once), aliasing,
// the first-non-finite scan across thread boundaries, and strided copies of permuted, sliced and
// broadcast views in every element type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, randn } from '../util.js';
import { elementwiseKernels as nat } from '../../src/backends/native/elementwise.js';
import { elementwiseKernels as ref } from '../../src/backends/reference/elementwise.js';

const SIZES = [0, 1, 3, 7, 15, 16, 17, 33, 127, 1000, 1000003];

test('add, addInto, scale: native = reference on many sizes; out may alias', () => {
  const rng = new Rng(1);
  for (const n of SIZES) {
    const a = randn(rng, n + 1), b = randn(rng, n + 1);
    const o1 = new Float32Array(n + 1).fill(7), o2 = new Float32Array(n + 1).fill(7);
    nat.add(o1, a, b, n); ref.add(o2, a, b, n);
    assert.deepEqual(o1, o2, `add n=${n}`);
    assert.equal(o1[n], 7, 'add wrote past n');
    if (n > 0) assert.equal(o2[0], Math.fround(a[0] + b[0]));

    const x1 = a.slice(), x2 = a.slice();
    nat.add(x1, x1, b, n); ref.add(x2, x2, b, n);  // out aliases a
    assert.deepEqual(x1.subarray(0, n), o2.subarray(0, n), `add aliasing a, n=${n}`);
    const y1 = b.slice();
    nat.add(y1, a, y1, n);                          // out aliases b
    assert.deepEqual(y1.subarray(0, n), o2.subarray(0, n), `add aliasing b, n=${n}`);

    const d1 = a.slice(), d2 = a.slice();
    nat.addInto(d1, b, n); ref.addInto(d2, b, n);
    assert.deepEqual(d1, d2, `addInto n=${n}`);
    assert.deepEqual(d1.subarray(0, n), o2.subarray(0, n));

    const s1 = a.slice(), s2 = a.slice();
    nat.scale(s1, 0.3, n); ref.scale(s2, 0.3, n);
    assert.deepEqual(s1, s2, `scale n=${n}`);
    assert.equal(s1[n], a[n], 'scale wrote past n');
  }
});

test('firstNonFinite: first NaN/±Inf index, deterministic across thread slices', () => {
  const rng = new Rng(2);
  for (const n of SIZES) {
    const x = randn(rng, n);
    assert.equal(nat.firstNonFinite(x, n), -1);
    assert.equal(ref.firstNonFinite(x, n), -1);
    if (n === 0) continue;
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const pos of [0, n - 1, n >> 1, rng.int(n)]) {
        const y = x.slice();
        y[pos] = bad;
        // a later bad value (in another thread's slice for large n) must not win
        const later = Math.min(n - 1, pos + 1 + rng.int(n - pos));
        if (later > pos) y[later] = NaN;
        assert.equal(nat.firstNonFinite(y, n), pos, `n=${n} pos=${pos}`);
        assert.equal(ref.firstNonFinite(y, n), pos, `reference n=${n} pos=${pos}`);
        assert.equal(nat.firstNonFinite(y, pos), -1, 'n excludes the bad element');
      }
    }
    const big = x.slice(); big[n - 1] = 3.4e38;  // finite extremes are not flagged
    assert.equal(nat.firstNonFinite(big, n), -1);
  }
});

type Data = Float32Array | Uint16Array | Int32Array;
const MAKERS: Array<[string, (n: number, rng: Rng) => Data]> = [
  ['f32', (n, rng) => randn(rng, n)],
  ['i32', (n, rng) => Int32Array.from({ length: n }, () => rng.nextU32() | 0)],
  ['u16', (n, rng) => Uint16Array.from({ length: n }, () => rng.nextU32() & 0xffff)],
];

function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

function checkView(x: Data, shape: number[], strides: number[], offset: number, what: string): void {
  const total = shape.reduce((p, s) => p * s, 1);
  const K = x.constructor as new (n: number) => Data;
  const a = new K(total + 1), b = new K(total + 1);
  a[total] = 99; b[total] = 99;
  nat.copyStrided(a, x, shape, strides, offset);
  ref.copyStrided(b, x, shape, strides, offset);
  assert.deepEqual(a, b, `${what}: shape [${shape}] strides [${strides}] offset ${offset}`);
}

test('copyStrided: permutations, slices, broadcasts, transposes; native = reference', () => {
  const rng = new Rng(3);
  for (const [tname, make] of MAKERS) {
    // [B,T,H,D] -> [B,H,T,D] (rows of D are contiguous), checked against the index formula too
    const [B, T, H, D] = [2, 5, 3, 7];
    const x = make(B * T * H * D, rng);
    const out = new (x.constructor as new (n: number) => Data)(B * T * H * D);
    nat.copyStrided(out, x, [B, H, T, D], [T * H * D, D, H * D, 1], 0);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++)
      assert.equal(out[((b * H + h) * T + t) * D + d], x[((b * T + t) * H + h) * D + d]);

    // last-two-dims transposes, sizes around the 16×16 tile and the 128×128 block
    for (const [R, C] of [[1, 1], [16, 16], [17, 33], [32, 48], [15, 40], [64, 3], [3, 64], [100, 37], [130, 200]]) {
      const src = make(2 * R * C + 5, rng);
      checkView(src, [2, C, R], [R * C, 1, C], 0, `${tname} transpose`);
      checkView(src, [C, R], [1, C], 5, `${tname} transpose offset`);
      checkView(src, [R, C], [1, R + 1], 0, `${tname} transpose padded`);
    }

    // random permutations / slices / broadcasts of up to 6 dims
    for (let trial = 0; trial < 60; trial++) {
      const nd = rng.int(7);
      const full = Array.from({ length: nd }, () => 1 + rng.int(5));
      const fullStrides = contiguousStrides(full);
      const size = full.reduce((p, s) => p * s, 1);
      const src = make(size + 3, rng);
      // a sub-box of the full tensor, then permuted, with some dims broadcast (stride 0)
      const shape: number[] = [], strides: number[] = [];
      let offset = rng.int(3);
      for (let d = 0; d < nd; d++) {
        const len = 1 + rng.int(full[d]), start = rng.int(full[d] - len + 1);
        offset += start * fullStrides[d];
        shape.push(len); strides.push(rng.int(6) === 0 ? 0 : fullStrides[d]);
      }
      const perm = Array.from({ length: nd }, (_, i) => i);
      for (let i = nd - 1; i > 0; i--) { const j = rng.int(i + 1); [perm[i], perm[j]] = [perm[j], perm[i]]; }
      checkView(src, perm.map((p) => shape[p]), perm.map((p) => strides[p]), offset, `${tname} trial ${trial}`);
    }
    // big enough to be split over threads: contiguous, row copies and transposes
    const big = make(500 * 300, rng);
    checkView(big, [500 * 300], [1], 0, `${tname} contiguous`);
    checkView(big, [300, 500], [1, 300], 0, `${tname} big transpose`);
    checkView(big, [25, 300, 20], [20, 500, 1], 0, `${tname} big rows`);
    checkView(big, [250, 300], [600, 1], 0, `${tname} every other row`);
    checkView(big, [500, 150], [300, 2], 0, `${tname} big strided gather`);
    checkView(big, [], [], 12345, `${tname} scalar`);
    // shape and strides may come as typed arrays
    const viaTyped = new (big.constructor as new (n: number) => Data)(500 * 300);
    nat.copyStrided(viaTyped, big, Int32Array.from([300, 500]) as never, Float64Array.from([1, 300]) as never, 0);
    const viaArray = viaTyped.slice(); viaArray.fill(0);
    ref.copyStrided(viaArray, big, [300, 500], [1, 300], 0);
    assert.deepEqual(viaTyped, viaArray, `${tname} typed-array shape/strides`);
    checkView(big, [5, 0, 3], [1, 1, 1], 0, `${tname} empty`);
  }
});

test('elementwise ops reject bad arguments, naming the op', () => {
  const f = new Float32Array(8);
  for (const k of [nat, ref]) {
    assert.throws(() => k.add(f, f, new Float32Array(3), 8), /add.*'b'/);
    assert.throws(() => k.add(f, f, new Uint16Array(8) as never, 8), /add/);
    assert.throws(() => k.addInto(new Float32Array(3), f, 8), /addInto.*dst/);
    assert.throws(() => k.scale(f, 2, 9), /scale/);
    assert.throws(() => k.scale(f, 2, -1), /scale/);
    assert.throws(() => k.firstNonFinite(f, 9), /firstNonFinite/);
    assert.throws(() => k.firstNonFinite(new Int32Array(8) as never, 8), /firstNonFinite/);
    const cs = k.copyStrided;
    assert.throws(() => cs(new Float32Array(6), f, [2, 3], [3, 1], 3), /copyStrided.*reaches/);      // 3+5 = 8 ≥ 8
    assert.throws(() => cs(new Float32Array(5), f, [2, 3], [3, 1], 0), /copyStrided.*out/);
    assert.throws(() => cs(new Float32Array(6), f, [2, 3], [3], 0), /copyStrided.*strides/);
    assert.throws(() => cs(new Float32Array(6), f, [2, 3], [3, -1], 0), /copyStrided.*strides/);
    assert.throws(() => cs(new Float32Array(6), f, [2, 3.5], [3, 1], 0), /copyStrided.*shape/);
    assert.throws(() => cs(new Float32Array(64), f, [1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1], 0), /copyStrided.*6/);
    assert.throws(() => cs(new Int32Array(6), f, [2, 3], [3, 1], 0), /copyStrided.*same element type/);
    assert.throws(() => cs(new Float64Array(6) as never, new Float64Array(8) as never, [2, 3], [3, 1], 0), /copyStrided/);
    assert.throws(() => cs(new Float32Array(6), f, 'ab' as never, [3, 1], 0), /copyStrided/);
    assert.throws(() => cs(new Float32Array(6), f, [2, 3], [3, 1], -1), /copyStrided.*offset/);
    cs(new Float32Array(6), f, [2, 3], [3, 1], 2);  // the last element exactly: fine
  }
});
