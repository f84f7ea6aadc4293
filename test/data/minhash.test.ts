// MinHash: the native kernel against its BigInt twin and published xxHash64 vectors, Jaccard
// estimates against hand-computed shingle overlaps, and the LSH probabilities datatrove documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { xxh64Ref, signatureRef } from '../../src/data/dedup/minhash-ref.js';
import { bandMatchProbability, DEFAULT_MINHASH, MinhashSigner, nativeMinhashAvailable, signatureSimilarity } from '../../src/data/dedup/minhash.js';
import { jaccard, shingleSet, simplifyText } from '../../src/data/dedup/normalize.js';
import { Rng } from '../../src/util/rng.js';

// xxHash64, seed 0: vectors from the xxHash project and python-xxhash's README
const VECTORS: Array<[string, string]> = [
  ['', 'ef46db3751d8e999'], ['a', 'd24ec4f1a98c6e5b'], ['abc', '44bc2cf5ad770999'],
  ['Nobody inspects the spammish repetition', 'fbcea83c8a378bf1'],
];

test('xxh64: reference and native match the published vectors', () => {
  const enc = new TextEncoder();
  for (const [s, hex] of VECTORS) assert.equal(xxh64Ref(enc.encode(s)).toString(16).padStart(16, '0'), hex, JSON.stringify(s));
  const addon = createRequire(import.meta.url)('../../../build/Release/dsllm.node') as { xxh64: (b: Uint8Array) => bigint };
  for (const [s, hex] of VECTORS) assert.equal(addon.xxh64(enc.encode(s)).toString(16).padStart(16, '0'), hex);
  // lengths around the 32/8/4-byte block boundaries
  const rng = new Rng(5);
  for (let n = 0; n < 80; n++) {
    const b = Uint8Array.from({ length: n }, () => rng.int(256));
    assert.equal(addon.xxh64(b), xxh64Ref(b), `length ${n}`);
  }
});

test('signatures: native kernel equals the BigInt reference (English, Chinese, short, empty)', () => {
  assert.ok(nativeMinhashAvailable(), 'native minhashSignatures is missing: run npm run build:native');
  const docs = [
    'Once upon a time, there was a little girl named Lily. She loved to play outside in the sun!',
    '床前明月光，疑是地上霜。举头望明月，低头思故乡。', 'two words', 'one', '', '... !!! ---',
    'Café déjà vu: 1999 vs 2024 — numbers, accents and dashes.',
  ];
  const nat = new MinhashSigner(DEFAULT_MINHASH), ref = new MinhashSigner(DEFAULT_MINHASH, true);
  const a = nat.sign(docs), b = ref.sign(docs);
  assert.equal(a.length, docs.length * 112);
  assert.deepEqual(Array.from(a), Array.from(b));
  // the empty and punctuation-only documents have no words: all values are 2^64 − 1
  for (const i of [4, 5]) assert.ok(Array.from(a.subarray(i * 112, (i + 1) * 112)).every((v) => v === (1n << 64n) - 1n));
  // a document of fewer than 5 words is one shingle: its whole text
  const one = signatureRef('two words', 5, nat.a, nat.b);
  assert.deepEqual(Array.from(a.subarray(2 * 112, 3 * 112)), one);
});

test('signatures: identical for identical input and seed, different for another seed', () => {
  const docs = ['the cat sat on the mat and looked at the dog for a while'];
  assert.deepEqual(new MinhashSigner(DEFAULT_MINHASH).sign(docs), new MinhashSigner(DEFAULT_MINHASH).sign(docs));
  assert.notDeepEqual(new MinhashSigner({ ...DEFAULT_MINHASH, seed: 2 }).sign(docs), new MinhashSigner(DEFAULT_MINHASH).sign(docs));
});

test('similarity of signatures estimates hand-computed Jaccard similarities', () => {
  // A = w0..w199, B = w40..w239: 196 shingles each, those starting at w40..w195 shared (156),
  // so J = 156 / (196 + 196 − 156) = 0.661. C = A with w100 replaced: the 5 shingles covering
  // w100 change, J = 191 / (196 + 196 − 191) = 0.950.
  // letter-only words: simplifyText maps every digit run to "0"
  const w = (i: number) => `w${String.fromCharCode(97 + Math.floor(i / 26) % 26)}${String.fromCharCode(97 + (i % 26))}`;
  const A = Array.from({ length: 200 }, (_, i) => w(i)).join(' ');
  const B = Array.from({ length: 200 }, (_, i) => w(i + 40)).join(' ');
  const C = A.replace(` ${w(100)} `, ' zzz ');
  const cases: Array<[string, string, number]> = [[A, B, 156 / 236], [A, C, 191 / 201], [A, A, 1]];
  const s = new MinhashSigner(DEFAULT_MINHASH);
  for (const [x, y, j] of cases) {
    assert.ok(Math.abs(jaccard(shingleSet(simplifyText(x), 5), shingleSet(simplifyText(y), 5)) - j) < 1e-12, 'shingle sets');
    const sig = s.sign([x, y]);
    const est = signatureSimilarity(sig, 0, sig, 1, s.K);
    const sd = Math.sqrt((j * (1 - j)) / s.K);
    assert.ok(Math.abs(est - j) <= 4 * sd + 1e-9, `estimate ${est} vs Jaccard ${j} (4 sd = ${4 * sd})`);
  }
  // averaged over many seeds the estimate is unbiased (mean within 0.01 of J = 0.661)
  let sum = 0;
  for (let seed = 1; seed <= 30; seed++) { const sig = new MinhashSigner({ ...DEFAULT_MINHASH, seed }).sign([A, B]); sum += signatureSimilarity(sig, 0, sig, 1, 112); }
  assert.ok(Math.abs(sum / 30 - 156 / 236) < 0.01, `mean estimate ${sum / 30}`);
});

test('LSH with 14 bands × 8 rows: the probabilities datatrove documents', () => {
  // datatrove's MinhashConfig docstring: threshold ≈ (1/14)^(1/8) ≈ 0.72, P(match | J = 0.8) ≈ 0.924
  assert.ok(Math.abs((1 / 14) ** (1 / 8) - 0.719) < 1e-3);
  assert.ok(Math.abs(bandMatchProbability(0.8, DEFAULT_MINHASH) - 0.924) < 1e-3);
});

test('simplifyText: case, accents, digits, punctuation, CJK characters as words', () => {
  assert.equal(simplifyText('  Hello,   WORLD!! 2024 '), 'hello world 0');
  assert.equal(simplifyText('Café déjà-vu'), 'cafe deja vu');
  assert.equal(simplifyText('床前明月光，疑是'), '床 前 明 月 光 疑 是');
});
