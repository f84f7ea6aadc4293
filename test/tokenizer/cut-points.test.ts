// Cutting pieces at the character boundaries no token spans must never change the ids: the cut
// path (BpeModel.encodePiece) is checked against plain BPE over the whole piece (mergeBytes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpeModel } from '../../src/tokenizer/bpe.js';
import { CutPoints } from '../../src/tokenizer/cut-points.js';
import { IdBuffer } from '../../src/tokenizer/id-buffer.js';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { tokenizerOf } from './data.js';
import { SKIP, data } from './data.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** a byte-level vocabulary whose merges are given as pairs of byte strings, in rank order */
function modelOf(merges: [Uint8Array, Uint8Array][]): BpeModel {
  const tokens: Uint8Array[] = [];
  for (let b = 0; b < 256; b++) tokens.push(Uint8Array.of(b));
  const idOf = (t: Uint8Array) => tokens.findIndex((x) => x.length === t.length && x.every((v, i) => v === t[i]));
  const pairs: [number, number][] = [];
  for (const [x, y] of merges) {
    const xy = new Uint8Array([...x, ...y]);
    if (idOf(xy) < 0) tokens.push(xy);
    pairs.push([idOf(x), idOf(y)]);
  }
  return new BpeModel({ tokens, merges: pairs, mode: 'merges' });
}

/** ids of `s` through the cut path and through whole-piece BPE */
function bothWays(bpe: BpeModel, s: string): [number[], number[]] {
  const cut = new IdBuffer(8), whole = new IdBuffer(8);
  bpe.clearCache();
  bpe.encodePiece(s, { buf: new Uint8Array(16) }, cut);
  const b = utf8(s);
  bpe.mergeBytes(b, b.length, whole);
  return [[...cut.a.subarray(0, cut.n)], [...whole.a.subarray(0, whole.n)]];
}

/** deterministic pseudo-random generator (mulberry32) */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('a boundary is a cut point exactly when no token can span it', () => {
  const zh = utf8('中'), guo = utf8('国'), wen = utf8('文');
  // 中 and 国 merge into one token; the last byte of 文 (0x87) joins the lead byte of any character
  // starting 0xE5 through a stray-byte token
  const bpe = modelOf([
    [zh.subarray(0, 1), zh.subarray(1, 2)], [zh.subarray(0, 2), zh.subarray(2)],
    [guo.subarray(0, 1), guo.subarray(1, 2)], [guo.subarray(0, 2), guo.subarray(2)],
    [zh, guo],
    [wen.subarray(2), Uint8Array.of(0xe5)],
  ]);
  const cuts = new CutPoints(bpe.tokens);
  const cp = (c: string) => c.codePointAt(0)!;
  assert.equal(cuts.cuttable(cp('中'), cp('国')), false, '中国 is a token');
  assert.equal(cuts.cuttable(cp('国'), cp('中')), true);
  assert.equal(cuts.cuttable(cp('中'), cp('文')), true);
  assert.equal(cuts.cuttable(cp('文'), cp('国')), false, '国 starts with 0xE5');
  assert.equal(cuts.cuttable(cp('文'), cp('中')), true, '中 starts with 0xE4');
  assert.equal(cuts.cuttable(cp('a'), cp('b')), false, 'two ASCII characters are never cut apart');
  for (const s of ['中国', '文国', '中文国中国', '国中文中', 'a中国b文国']) {
    const [cut, whole] = bothWays(bpe, s);
    assert.deepEqual(cut, whole, s);
  }
});

test('cut path equals whole-piece BPE on random text over vocabularies with spanning merges', () => {
  // random merges over the bytes of a few characters, including merges that join characters
  // and stray bytes, at random ranks: the cut path must agree with whole-piece BPE every time
  const alphabet = [...'中国文字的是a b€é'];
  const rand = rng(7);
  for (let v = 0; v < 30; v++) {
    const merges: [Uint8Array, Uint8Array][] = [];
    const known: Uint8Array[] = alphabet.map(utf8).flatMap((b) => [...b].map((x) => Uint8Array.of(x)));
    const isKnown = (t: Uint8Array) => known.some((k) => k.length === t.length && k.every((c, j) => c === t[j]));
    for (let tries = 0; merges.length < 40 && tries < 20000; tries++) {
      // join two adjacent known tokens of a random short text: merges BPE can reach, some of them
      // across characters or between stray bytes
      const s = utf8(Array.from({ length: 3 }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
      const i = 1 + Math.floor(rand() * (s.length - 1)), a = Math.floor(rand() * i), b = i + 1 + Math.floor(rand() * (s.length - i));
      const x = s.subarray(a, i), y = s.subarray(i, b), xy = s.subarray(a, b);
      if (!isKnown(x) || !isKnown(y) || isKnown(xy)) continue;
      merges.push([x, y]);
      known.push(xy);
    }
    assert.equal(merges.length, 40);
    const bpe = modelOf(merges);
    for (let k = 0; k < 60; k++) {
      const s = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      const [cut, whole] = bothWays(bpe, s);
      assert.deepEqual(cut, whole, `vocabulary ${v}, text ${JSON.stringify(s)}`);
    }
  }
});

test('cut path equals whole-piece BPE on real vocabularies (cl100k, DeepSeek LLM)', { skip: SKIP }, () => {
  for (const tok of [loadTokenizer('cl100k_base'), tokenizerOf(data('tokenizers', 'deepseek-llm-vocab.gguf'))]) {
    // characters that tokens join to their neighbours, plus plain CJK, Latin-1 and an emoji
    const chars = new Set<string>();
    for (const t of tok.bpe.tokens) {
      if (!t || t.length < 4) continue;
      const s = new TextDecoder('utf-8', { fatal: false }).decode(t);
      if ([...s].length > 1 && !s.includes('\ufffd') && /[^\x00-\x7f]/.test(s)) for (const c of s) chars.add(c);
    }
    const pool = [...chars].slice(0, 3000).concat([...'中文字詞句段落é€😀 ,a']);
    const rand = rng(11);
    for (let k = 0; k < 3000; k++) {
      const s = Array.from({ length: 2 + Math.floor(rand() * 30) }, () => pool[Math.floor(rand() * pool.length)]).join('');
      const [cut, whole] = bothWays(tok.bpe, s);
      assert.deepEqual(cut, whole, JSON.stringify(s));
    }
  }
});
