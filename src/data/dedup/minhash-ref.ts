// The BigInt twin of native/minhash.cc: slow, plainly written, the oracle the tests compare against.
// xxHash64 follows Yann Collet's specification; the permutation is datatrove's
// ((a·x + b) mod 2^64) mod (2^61 − 1) with numpy's wrapping uint64 arithmetic.
const M64 = (1n << 64n) - 1n;
const P1 = 11400714785074694791n, P2 = 14029467366897019727n, P3 = 1609587929392839161n;
const P4 = 9650029242287828579n, P5 = 2870177450012600261n;
export const MERSENNE61 = (1n << 61n) - 1n;

const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M64;
const mul = (a: bigint, b: bigint) => (a * b) & M64;
const round = (acc: bigint, inp: bigint) => mul(rotl((acc + mul(inp, P2)) & M64, 31n), P1);
const merge = (acc: bigint, v: bigint) => (mul(acc ^ round(0n, v), P1) + P4) & M64;

function le(b: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[at + i]);
  return v;
}

export function xxh64Ref(b: Uint8Array): bigint {
  const len = b.length;
  let p = 0, h: bigint;
  if (len >= 32) {
    let v1 = (P1 + P2) & M64, v2 = P2, v3 = 0n, v4 = (0n - P1) & M64;
    while (p + 32 <= len) {
      v1 = round(v1, le(b, p, 8)); v2 = round(v2, le(b, p + 8, 8));
      v3 = round(v3, le(b, p + 16, 8)); v4 = round(v4, le(b, p + 24, 8));
      p += 32;
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4);
  } else h = P5;
  h = (h + BigInt(len)) & M64;
  while (p + 8 <= len) { h ^= round(0n, le(b, p, 8)); h = (mul(rotl(h, 27n), P1) + P4) & M64; p += 8; }
  if (p + 4 <= len) { h ^= mul(le(b, p, 4), P1); h = (mul(rotl(h, 23n), P2) + P3) & M64; p += 4; }
  while (p < len) { h ^= mul(BigInt(b[p]), P5); h = mul(rotl(h, 11n), P1); p++; }
  h ^= h >> 33n; h = mul(h, P2); h ^= h >> 29n; h = mul(h, P3); h ^= h >> 32n;
  return h;
}

/** Signature of one simplified text (words joined by single spaces): K minima, or all 2^64−1 if empty. */
export function signatureRef(simplified: string, nGrams: number, a: BigUint64Array, b: BigUint64Array): bigint[] {
  const words = simplified ? simplified.split(' ').filter((w) => w) : [];
  const sig = new Array<bigint>(a.length).fill(M64);
  if (!words.length) return sig;
  const shingles = words.length >= nGrams ? words.length - nGrams + 1 : 1;
  const enc = new TextEncoder();
  for (let s = 0; s < shingles; s++) {
    const x = xxh64Ref(enc.encode(words.slice(s, Math.min(s + nGrams, words.length)).join(' ')));
    for (let k = 0; k < a.length; k++) {
      const v = ((a[k] * x + b[k]) & M64) % MERSENNE61;
      if (v < sig[k]) sig[k] = v;
    }
  }
  return sig;
}
