// Exactness against a peer: our cl100k_base (read from the tiktoken package's own rank data)
// encodes all of shared/data's corpus and eval sets to the same ids as tiktoken (WASM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { SKIP, data } from './data.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(txt|jsonl|csv)$/.test(f) ? [p] : [];
  });
}

test('cl100k_base: same ids as tiktoken on every corpus and eval file', { skip: SKIP }, () => {
  const { get_encoding } = createRequire(import.meta.url)('tiktoken');
  const peer = get_encoding('cl100k_base');
  const ours = loadTokenizer('cl100k_base');
  const list = [...files(data('corpus')), ...files(data('eval'))];
  assert.ok(list.length > 100);
  // MMLU's 114 CSVs are checked as one text per split to keep the suite fast
  const texts = new Map<string, string>();
  for (const f of list) {
    const key = /mmlu\/(dev|test)\//.exec(f)?.[0] ?? f;
    texts.set(key, (texts.get(key) ?? '') + readFileSync(f, 'utf8'));
  }
  for (const [name, text] of texts) {
    const a = ours.encode(text), b = peer.encode_ordinary(text) as Uint32Array;
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      const i = a.findIndex((x, k) => x !== b[k]);
      assert.fail(`${name}: first difference at token ${i}: ours ${a.slice(i, i + 5)} tiktoken ${b.slice(i, i + 5)}`);
    }
  }
  // special tokens in text: tiktoken's allowed_special = 'all' matches our special: 'all'
  const s = 'a<|endoftext|>hello<|fim_prefix|> b';
  assert.deepEqual(Array.from(ours.encode(s, { special: 'all' })), Array.from(peer.encode(s, 'all')));
  peer.free();
});
