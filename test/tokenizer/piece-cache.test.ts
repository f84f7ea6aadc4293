// The piece cache against a Map: ranges of larger strings, one and many ids, and the clear when full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PIECE_MAX, PieceCache } from '../../src/tokenizer/piece-cache.js';
import { IdBuffer } from '../../src/tokenizer/id-buffer.js';

test('piece cache returns what was set for a range, nothing for what was not', () => {
  const cache = new PieceCache();
  const ref = new Map<string, number[]>();
  const out = new IdBuffer(4);
  let seed = 3;
  const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  // pieces over a small alphabet, so that many share prefixes and lengths; some CJK and a surrogate pair
  const alphabet = ['a', 'b', ' ', '中', '\uD83D\uDE00'];
  const text = Array.from({ length: 400_000 }, () => alphabet[rand(alphabet.length)]).join('');
  let hits = 0;
  for (let k = 0; k < 200_000; k++) {
    const a = rand(text.length - PIECE_MAX), b = a + 1 + rand(PIECE_MAX);
    const piece = text.slice(a, b), h = PieceCache.hash(text, a, b);
    assert.equal(h, PieceCache.hash(piece, 0, piece.length), 'the hash depends on the text, not on where it lies');
    out.n = 0;
    const found = cache.get(text, a, b, h, out);
    const want = ref.get(piece);
    if (found) {
      hits++;
      assert.ok(want, `a hit for ${JSON.stringify(piece)} that was never set`);
      assert.deepEqual(Array.from(out.a.subarray(0, out.n)), want);
      continue;
    }
    assert.equal(out.n, 0, 'a miss appends nothing');
    // a miss of a piece that was set is allowed only after a clear (the cache is bounded)
    const ids = Array.from({ length: 1 + rand(3) }, () => rand(200_000));
    const buf = Uint32Array.from([7, ...ids, 9]);
    cache.set(text, a, b, h, buf, 1, 1 + ids.length);
    ref.set(piece, ids);
  }
  assert.ok(hits > 20_000, `hits ${hits}`);  // short pieces repeat: the hit path is exercised
});

test('piece cache empties itself when full and keeps working', () => {
  const cache = new PieceCache();
  const out = new IdBuffer(4);
  const key = (i: number) => `w${i.toString(36)}`;
  for (let i = 0; i < 100_000; i++) {
    const s = key(i);
    cache.set(s, 0, s.length, PieceCache.hash(s, 0, s.length), Uint32Array.of(i), 0, 1);
  }
  // the last ones are there, the first ones were dropped by a clear
  const last = key(99_999);
  assert.ok(cache.get(last, 0, last.length, PieceCache.hash(last, 0, last.length), out));
  assert.deepEqual(Array.from(out.a.subarray(0, out.n)), [99_999]);
  const first = key(0);
  out.n = 0;
  assert.equal(cache.get(first, 0, first.length, PieceCache.hash(first, 0, first.length), out), false);
  // pieces longer than PIECE_MAX and id runs longer than 63 are not cached
  const long = 'x'.repeat(PIECE_MAX + 1);
  cache.set(long, 0, long.length, PieceCache.hash(long, 0, long.length), Uint32Array.of(1), 0, 1);
  assert.equal(cache.get(long, 0, long.length, PieceCache.hash(long, 0, long.length), out), false);
  const many = Uint32Array.from({ length: 64 }, (_, i) => i);
  cache.set('yy', 0, 2, PieceCache.hash('yy', 0, 2), many, 0, 64);
  assert.equal(cache.get('yy', 0, 2, PieceCache.hash('yy', 0, 2), out), false);
});
