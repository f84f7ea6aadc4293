// Training: deterministic (same input ⇒ same merges, for 1 or 2 threads), specials after the
// ordinary tokens, padding to a multiple, and the result loads in HF tokenizers.js with equal ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { trainBpe } from '../../src/tokenizer/trainer.js';
import { toHfJson } from '../../src/tokenizer/formats/hf.js';
import { SKIP, data } from './data.js';

test('train: deterministic across thread counts, specials and padding, HF agrees', { skip: SKIP }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsllm-train-'));
  const en = join(dir, 'en.txt'), zh = join(dir, 'zh.txt');
  writeFileSync(en, readFileSync(data('corpus', 'en', 'tinystories_sample.txt'), 'utf8').slice(0, 300_000));
  writeFileSync(zh, readFileSync(data('corpus', 'zh', 'song_ci.txt'), 'utf8').slice(0, 150_000));
  const specials = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<|endoftext|>'];
  const opts = { vocabSize: 2000, inputs: [en, zh], specialTokens: specials, padToMultiple: 128 };
  const a = await trainBpe({ ...opts, threads: 1 });
  const b = await trainBpe({ ...opts, threads: 2 });
  assert.deepEqual(a.tokenizer.spec.merges, b.tokenizer.spec.merges, 'same merges with 1 and 2 threads');
  assert.equal(a.tokenizer.spec.tokens.length + specials.length, 2000);
  assert.equal(a.tokenizer.vocabSize, 2048, 'padded to a multiple of 128');
  assert.deepEqual(a.tokenizer.spec.addedTokens.map((t) => t.id), [1997, 1998, 1999]);
  const tok = a.tokenizer;
  const text = readFileSync(en, 'utf8').slice(0, 5000) + readFileSync(zh, 'utf8').slice(0, 2000);
  assert.equal(tok.decode(tok.encode(text)), text);
  assert.ok(!Array.from(tok.encode('<|endoftext|>', { special: 'all' })).some((id) => id < 1997) , 'special text becomes its id');
  const hf = new HfTokenizer(toHfJson(tok), {});
  assert.deepEqual(hf.encode(text, { add_special_tokens: false }).ids, Array.from(tok.encode(text, { special: 'all' })));
  for (const v of Object.values(a.stats.bytesPerToken)) assert.ok(v > 1.5, `bytes/token ${v}`);
});
