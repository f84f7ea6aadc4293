// Bad input: each a clear error naming the file, byte or component; never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGgufMeta } from '../../src/tokenizer/formats/gguf.js';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { trainBpe } from '../../src/tokenizer/trainer.js';
import { AddedTokens } from '../../src/tokenizer/added-tokens.js';
import { Utf8Decoder, decodeUtf8 } from '../../src/tokenizer/utf8.js';
import { tokenizerOf } from './data.js';
import { SKIP, data } from './data.js';

test('GGUF: truncated, bad magic, bad version', { skip: SKIP }, () => {
  const buf = readFileSync(data('tokenizers', 'gpt-2-vocab.gguf'));
  for (const cut of [3, 10, 30, 1000, buf.length >> 1, buf.length - 1]) {
    assert.throws(() => parseGgufMeta(buf.subarray(0, cut), 'v.gguf'), /v\.gguf: byte \d+: .*(truncated|file ends)/, `cut at ${cut}`);
  }
  const magic = Buffer.from(buf); magic.write('GGUX', 0, 'latin1');
  assert.throws(() => parseGgufMeta(magic, 'v.gguf'), /v\.gguf: byte 0: bad magic "GGUX"/);
  const ver = Buffer.from(buf); ver.writeUInt32LE(9, 4);
  assert.throws(() => parseGgufMeta(ver, 'v.gguf'), /v\.gguf: byte 4: GGUF version 9 is not supported/);
  const dir = mkdtempSync(join(tmpdir(), 'dsllm-tok-'));
  writeFileSync(join(dir, 'cut.gguf'), buf.subarray(0, 5000));
  assert.throws(() => loadTokenizer(join(dir, 'cut.gguf')), /cut\.gguf: byte \d+/);
});

test('duplicate special tokens and a vocab too small are refused', async () => {
  assert.throws(() => new AddedTokens([{ id: 1, content: '<s>', special: true }, { id: 2, content: '<s>', special: true }]), /"<s>" appears twice \(ids 1 and 2\)/);
  await assert.rejects(trainBpe({ vocabSize: 1000, inputs: [], specialTokens: ['<a>', '<a>'] }), /special token "<a>" is given twice/);
  await assert.rejects(trainBpe({ vocabSize: 257, inputs: [], specialTokens: ['<a>', '<b>'] }), /vocab size 257 is smaller than 256 byte tokens \+ 2 special tokens = 258/);
});

test('invalid UTF-8 is replaced per maximal subpart and counted', () => {
  // WHATWG/Python-compatible: each maximal invalid subpart is one U+FFFD
  const cases: [number[], string, number][] = [
    [[0x61, 0xff, 0x62], 'a\ufffdb', 1],
    [[0xe2, 0x82], '\ufffd', 1],
    [[0xe2, 0x82, 0x41], '\ufffdA', 1],
    [[0xf0, 0x9f, 0x98, 0x81], '😁', 0],
    [[0xed, 0xa0, 0x80], '\ufffd\ufffd\ufffd', 3],
    [[0xc0, 0xaf], '\ufffd\ufffd', 2],
  ];
  for (const [bytes, text, n] of cases) {
    const r = decodeUtf8(Uint8Array.from(bytes));
    assert.equal(r.text, text, JSON.stringify(bytes));
    assert.equal(r.text, new TextDecoder().decode(Uint8Array.from(bytes)));
    assert.equal(r.invalid, n);
  }
});

test('streaming UTF-8 decode: long inputs in random pieces, valid and not, equal the WHATWG decoder and count U+FFFD', () => {
  // long valid runs take a native fast path; a character split between pieces, or an invalid byte,
  // goes through the byte loop: both must give what TextDecoder gives on the whole input
  let seed = 11;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const enc = new TextEncoder(), whatwg = new TextDecoder('utf-8', { ignoreBOM: true });
  const invalid = [[0x80], [0xff], [0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98]];
  for (let c = 0; c < 300; c++) {
    const bytes: number[] = c % 7 === 0 ? [0xef, 0xbb, 0xbf] : [];  // a BOM stays a character
    const bad = c % 2 === 1;
    while (bytes.length < 100 + rand(3000)) {
      if (bad && rand(40) === 0) { bytes.push(...invalid[rand(invalid.length)]); continue; }
      const kind = rand(4);
      let cp = kind === 0 ? 0x20 + rand(0x5f) : kind === 1 ? 0x80 + rand(0x780) : kind === 2 ? 0x800 + rand(0xf800) : 0x10000 + rand(0x100000);
      if ((cp >= 0xd800 && cp < 0xe000) || cp === 0xfffd) cp = 0x41;
      bytes.push(...enc.encode(String.fromCodePoint(cp)));
    }
    const all = Uint8Array.from(bytes), want = whatwg.decode(all);
    const d = new Utf8Decoder();
    let got = '';
    for (let at = 0; at < all.length;) { const n = 1 + rand(700); got += d.decode(all.subarray(at, at + n), true); at += n; }
    got += d.decode(new Uint8Array(0));
    assert.equal(got, want, `case ${c}`);
    assert.equal(d.invalid, [...want].filter((ch) => ch === '\ufffd').length, `case ${c}: replacements counted`);
  }
});

test('disallowed special tokens in text are refused when asked; ids out of range are named', { skip: SKIP }, () => {
  const tok = tokenizerOf(data('tokenizers', 'deepseek-llm-vocab.gguf'));
  assert.throws(() => tok.encode('x <｜end▁of▁sentence｜>', { special: 'error' }), /special token "<｜end▁of▁sentence｜>" at offset 2/);
  assert.deepEqual(Array.from(tok.encode('<｜end▁of▁sentence｜>', { special: 'all' })), [100001]);
  assert.ok(tok.encode('<｜end▁of▁sentence｜>').length > 1, 'as text by default');
  assert.throws(() => tok.decode([5, 102400]), /token id 102400 is outside the vocabulary \(0\.\.102399\)/);
});
