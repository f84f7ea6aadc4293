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
import { decodeUtf8 } from '../../src/tokenizer/utf8.js';
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

test('disallowed special tokens in text are refused when asked; ids out of range are named', { skip: SKIP }, () => {
  const tok = tokenizerOf(data('tokenizers', 'deepseek-llm-vocab.gguf'));
  assert.throws(() => tok.encode('x <｜end▁of▁sentence｜>', { special: 'error' }), /special token "<｜end▁of▁sentence｜>" at offset 2/);
  assert.deepEqual(Array.from(tok.encode('<｜end▁of▁sentence｜>', { special: 'all' })), [100001]);
  assert.ok(tok.encode('<｜end▁of▁sentence｜>').length > 1, 'as text by default');
  assert.throws(() => tok.decode([5, 102400]), /token id 102400 is outside the vocabulary \(0\.\.102399\)/);
});
