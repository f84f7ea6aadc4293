// Conversions: every bf16/f16 bit pattern, random f32 bit patterns (NaN, ±Inf, subnormals included)
// and constructed rounding ties, native against reference bit for bit, plus known values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util.js';
import { convertKernels as nat } from '../../src/backends/native/convert.js';
import { convertKernels as ref } from '../../src/backends/reference/convert.js';

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
const f32FromBits = (u: Uint32Array) => new Float32Array(u.buffer, u.byteOffset, u.length);

/** runs a native conversion over the whole buffer and again in 15-element pieces (the scalar tails) */
function bothPaths<O extends Float32Array | Uint16Array, X extends Float32Array | Uint16Array>(
  fn: (out: O, x: X, n: number) => void, out: O, x: X,
): O {
  fn(out, x, x.length);
  const pieces = out.slice() as O;
  pieces.fill(0x5555 as never);
  for (let i = 0; i < x.length; i += 15) {
    const m = Math.min(15, x.length - i);
    fn(pieces.subarray(i, i + m) as O, x.subarray(i, i + m) as X, m);
  }
  assert.deepEqual(bits16or32(pieces), bits16or32(out), 'vector and scalar-tail paths disagree');
  return out;
}
const bits16or32 = (a: Float32Array | Uint16Array) => (a instanceof Float32Array ? Array.from(bits(a)) : Array.from(a));

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>, x: ArrayLike<number>): string {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `at ${i}: input 0x${x[i].toString(16)} → native 0x${a[i].toString(16)}, reference 0x${b[i].toString(16)}`;
  return 'none';
}

/** random f32 bit patterns (all classes) plus ties and edge values for both 16-bit formats */
function f32Cases(rng: Rng, n: number): Float32Array {
  const u = new Uint32Array(n);
  const special = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff,
    0x00000001, 0x807fffff, 0x00400000, 0x7f7fffff, 0xff7fffff, 0x7f7f8000, 0x477fe000, 0x477fefff, 0x477ff000,
    0x38800000, 0x38000000, 0x33800000, 0x33000000, 0x33000001, 0x337fffff, 0x3f808000, 0x3f818000, 0x3f800000];
  for (let i = 0; i < n; i++) {
    const r = rng.nextU32(), kind = i < special.length ? -1 : i % 5;
    const sign = (r & 1) << 31, e = 96 + ((r >>> 26) & 63);  // 2^-31 .. 2^32: all of half's range and past it
    if (kind === -1) u[i] = special[i];
    else if (kind === 0) u[i] = r;                                          // anything, NaNs included
    else if (kind === 1) u[i] = ((r & 0xffff0000) | 0x8000) >>> 0;          // bf16 ties
    else if (kind === 2) u[i] = (sign | (e << 23) | (r & 0x7fe000) | 0x1000) >>> 0;  // f16 ties (normal range)
    else if (kind === 3) u[i] = (sign | (e << 23) | (r & 0x7ffffe)) >>> 0;           // f16 range, incl. subnormal ties
    else u[i] = (r & 0x807fffff) >>> 0;                                      // f32 subnormals
  }
  return f32FromBits(u);
}

test('bf16ToF32 then f32ToBf16: all 65536 patterns, exact; NaN stays NaN', () => {
  const h = new Uint16Array(65536).map((_, i) => i);
  const fn = bothPaths(nat.bf16ToF32, new Float32Array(65536), h);
  const fr = new Float32Array(65536); ref.bf16ToF32(fr, h, 65536);
  assert.equal(firstDiff(bits(fn), bits(fr), h), 'none');
  const back = bothPaths(nat.f32ToBf16, new Uint16Array(65536), fn);
  for (let i = 0; i < 65536; i++) {
    const nan = (i & 0x7f80) === 0x7f80 && (i & 0x7f) !== 0;
    assert.equal(back[i], nan ? i | 0x40 : i, `pattern 0x${i.toString(16)}`);
    assert.equal(Number.isNaN(fn[i]), nan);
  }
});

test('f16ToF32 then f32ToF16: all 65536 patterns, exact; NaN stays NaN', () => {
  const h = new Uint16Array(65536).map((_, i) => i);
  const fn = bothPaths(nat.f16ToF32, new Float32Array(65536), h);
  const fr = new Float32Array(65536); ref.f16ToF32(fr, h, 65536);
  assert.equal(firstDiff(bits(fn), bits(fr), h), 'none');
  const back = bothPaths(nat.f32ToF16, new Uint16Array(65536), fn);
  const backRef = new Uint16Array(65536); ref.f32ToF16(backRef, fn, 65536);
  for (let i = 0; i < 65536; i++) {
    const nan = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
    assert.equal(back[i], nan ? i | 0x200 : i, `pattern 0x${i.toString(16)}`);
    assert.equal(backRef[i], back[i], `reference, pattern 0x${i.toString(16)}`);
    assert.equal(Number.isNaN(fn[i]), nan);
  }
  // an independent decoding of a few patterns
  assert.deepEqual([fn[0x3c00], fn[0x7bff], fn[0x0001], fn[0x03ff], fn[0x0400], fn[0xc000], fn[0x7c00], fn[0xfc00]],
    [1, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, -2, Infinity, -Infinity]);
});

test('f32ToBf16 / f32ToF16: random f32 bit patterns and ties, native = reference', () => {
  const rng = new Rng(7);
  for (const n of [0, 1, 3, 7, 15, 16, 17, 33, 127, 1000, 1000003]) {
    const x = f32Cases(rng, n);
    for (const [name, fnN, fnR] of [['f32ToBf16', nat.f32ToBf16, ref.f32ToBf16], ['f32ToF16', nat.f32ToF16, ref.f32ToF16]] as const) {
      const a = new Uint16Array(n + 1).fill(0xabcd), b = new Uint16Array(n + 1).fill(0xabcd);
      fnN(a, x, n); fnR(b, x, n);
      assert.equal(firstDiff(a, b, bits(x)), 'none', `${name} n=${n}`);
      assert.equal(a[n], 0xabcd, `${name} wrote past n`);
    }
    const h = new Uint16Array(n); for (let i = 0; i < n; i++) h[i] = rng.nextU32() & 0xffff;
    for (const [name, fnN, fnR] of [['bf16ToF32', nat.bf16ToF32, ref.bf16ToF32], ['f16ToF32', nat.f16ToF32, ref.f16ToF32]] as const) {
      const a = new Float32Array(n), b = new Float32Array(n);
      fnN(a, h, n); fnR(b, h, n);
      assert.equal(firstDiff(bits(a), bits(b), h), 'none', `${name} n=${n}`);
    }
  }
});

test('known roundings', () => {
  const x = f32FromBits(new Uint32Array([0x3f808000, 0x3f818000, 0x40490fdb, 0x00018000, 0x7f7fffff, 0x7f800001]));
  const b = new Uint16Array(6); ref.f32ToBf16(b, x, 6);
  assert.deepEqual(Array.from(b), [0x3f80, 0x3f82, 0x4049, 0x0002, 0x7f80, 0x7fc0]);
  const y = new Float32Array([1, 65504, 65519.99, 65520, 2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 0.1, -0, 2 ** -14 * (1 - 2 ** -12)]);
  const h = new Uint16Array(y.length); ref.f32ToF16(h, y, y.length);
  assert.deepEqual(Array.from(h), [0x3c00, 0x7bff, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x0001, 0x2e66, 0x8000, 0x0400]);
});

test('conversions reject bad arguments, naming the op', () => {
  for (const k of [nat, ref]) {
    assert.throws(() => k.f32ToBf16(new Float32Array(4) as never, new Float32Array(4), 4), /f32ToBf16/);
    assert.throws(() => k.f32ToBf16(new Uint16Array(3), new Float32Array(4), 4), /f32ToBf16.*out/);
    assert.throws(() => k.bf16ToF32(new Float32Array(4), new Uint16Array(3), 4), /bf16ToF32.*x/);
    assert.throws(() => k.f32ToF16(new Uint16Array(4), new Uint16Array(4) as never, 4), /f32ToF16/);
    assert.throws(() => k.f16ToF32(new Float32Array(4), new Uint16Array(4), -1), /f16ToF32/);
    assert.throws(() => k.f16ToF32(new Float32Array(4), new Uint16Array(4), 1.5), /f16ToF32/);
  }
});
