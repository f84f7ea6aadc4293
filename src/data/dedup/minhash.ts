// MinHash signatures, batched into the native kernel (native/minhash.cc). Defaults are datatrove's
// MinhashConfig: 5-word shingles, 14 bands × 8 rows = 112 hashes of 64 bits, seed 1
// (../shared/ANCHORS-PIPELINE.md §2.1). The permutation parameters come from our own seeded
// SplitMix64, so signatures are identical for identical input and seed, but not equal to datatrove's.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MERSENNE61, signatureRef } from './minhash-ref.js';
import { simplifyText } from './normalize.js';

export interface MinhashConfig {
  /** words per shingle (datatrove n_grams 5) */
  nGrams: number;
  /** LSH bands (datatrove num_buckets 14) */
  bands: number;
  /** hashes per band (datatrove hashes_per_bucket 8) */
  rows: number;
  seed: number;
  /**
   * A candidate pair (same band) counts as a duplicate only if the fraction of equal signature values
   * is at least this. datatrove has no such check (0 turns it off); 0.7 keeps recall at Jaccard 0.8
   * (≈ 0.99 of band matches pass) while removing most band matches of pairs below 0.65.
   */
  verifyThreshold: number;
}

export const DEFAULT_MINHASH: Readonly<MinhashConfig> = { nGrams: 5, bands: 14, rows: 8, seed: 1, verifyThreshold: 0.7 };

/** P(a pair of Jaccard s shares at least one band) = 1 − (1 − s^rows)^bands */
export function bandMatchProbability(s: number, cfg: Pick<MinhashConfig, 'bands' | 'rows'>): number {
  return 1 - (1 - s ** cfg.rows) ** cfg.bands;
}

/** The K = bands·rows permutation parameters a ∈ [1, p), b ∈ [0, p), p = 2^61 − 1, from SplitMix64(seed). */
export function permutationParams(cfg: Pick<MinhashConfig, 'bands' | 'rows' | 'seed'>): { a: BigUint64Array; b: BigUint64Array } {
  const K = cfg.bands * cfg.rows;
  const M = (1n << 64n) - 1n;
  let x = BigInt.asUintN(64, BigInt(cfg.seed));
  const next = (): bigint => {
    x = (x + 0x9e3779b97f4a7c15n) & M;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    return z ^ (z >> 31n);
  };
  const a = new BigUint64Array(K), b = new BigUint64Array(K);
  for (let k = 0; k < K; k++) { a[k] = 1n + (next() % (MERSENNE61 - 1n)); b[k] = next() % MERSENNE61; }
  return { a, b };
}

type NativeMinhash = (text: Uint8Array, offsets: Int32Array, n: number, a: BigUint64Array, b: BigUint64Array, out: BigUint64Array) => void;
let nativeFn: NativeMinhash | null | undefined;
let warned = false;

function loadNative(): NativeMinhash | null {
  if (nativeFn !== undefined) return nativeFn;
  nativeFn = null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'build', 'Release', 'dsllm.node');
    if (existsSync(p) && existsSync(join(dir, 'binding.gyp'))) {
      try {
        const addon = createRequire(import.meta.url)(p) as Record<string, unknown>;
        if (typeof addon.minhashSignatures === 'function') nativeFn = addon.minhashSignatures as NativeMinhash;
      } catch { /* falls back below */ }
      break;
    }
    dir = dirname(dir);
  }
  return nativeFn;
}

/** true when signatures come from the native kernel (false: the BigInt reference, ~100× slower) */
export function nativeMinhashAvailable(): boolean { return loadNative() !== null; }

/** Signs batches of documents. `sign` returns n·K values; document i's signature is [i·K, (i+1)·K). */
export class MinhashSigner {
  readonly K: number;
  readonly a: BigUint64Array;
  readonly b: BigUint64Array;

  constructor(readonly cfg: Readonly<MinhashConfig> = DEFAULT_MINHASH, private readonly forceReference = false) {
    if (!(cfg.nGrams >= 1 && cfg.bands >= 1 && cfg.rows >= 1)) throw new Error(`minhash: nGrams, bands and rows must be >= 1 (got ${cfg.nGrams}, ${cfg.bands}, ${cfg.rows})`);
    this.K = cfg.bands * cfg.rows;
    ({ a: this.a, b: this.b } = permutationParams(cfg));
  }

  /** Signatures of already simplified texts. */
  signSimplified(simplified: readonly string[]): BigUint64Array {
    const out = new BigUint64Array(simplified.length * this.K);
    const fn = this.forceReference ? null : loadNative();
    if (!fn) {
      if (!this.forceReference && !warned) {
        warned = true;
        process.stderr.write('!! native minhashSignatures missing (addon not built or stale): using the BigInt reference, ~100× slower.\n!! Run `npm run build:native` to get the fast path.\n');
      }
      simplified.forEach((s, i) => out.set(signatureRef(s, this.cfg.nGrams, this.a, this.b), i * this.K));
      return out;
    }
    // batches stay under 1 GiB so Int32 offsets suffice
    let i = 0;
    while (i < simplified.length) {
      const bufs: Buffer[] = [];
      const start = i;
      let bytes = 0;
      while (i < simplified.length && (bytes < (1 << 30) || i === start)) {
        const b = Buffer.from(simplified[i], 'utf8');
        bufs.push(b); bytes += b.length; i++;
      }
      const offsets = new Int32Array(bufs.length + 1);
      for (let j = 0; j < bufs.length; j++) offsets[j + 1] = offsets[j] + bufs[j].length;
      fn(Buffer.concat(bufs, bytes), offsets, this.cfg.nGrams, this.a, this.b, out.subarray(start * this.K, i * this.K));
    }
    return out;
  }

  sign(texts: readonly string[]): BigUint64Array {
    return this.signSimplified(texts.map(simplifyText));
  }
}

export const EMPTY_SIGNATURE_VALUE = (1n << 64n) - 1n;

/** Fraction of equal values between signatures i and j of `sigs` (an unbiased Jaccard estimate). */
export function signatureSimilarity(sigA: BigUint64Array, i: number, sigB: BigUint64Array, j: number, K: number): number {
  let eq = 0;
  const ai = i * K, bj = j * K;
  for (let k = 0; k < K; k++) if (sigA[ai + k] === sigB[bj + k]) eq++;
  return eq / K;
}
