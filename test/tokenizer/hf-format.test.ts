// tokenizer.json: what we write loads in HF's tokenizers.js and encodes every test string to our
// ids; reading it back gives the same tokenizer; bad components are refused with their JSON path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { hfJsonToSpec, toHfJson } from '../../src/tokenizer/formats/hf.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { tokenizerOf } from './data.js';
import { SKIP, data, vocabInputs } from './data.js';

const sources = () => [
  data('tokenizers', 'deepseek-llm-vocab.gguf'), data('tokenizers', 'gpt-2-vocab.gguf'),
  'cl100k_base',
];

test('written tokenizer.json: HF tokenizers.js gives our ids; reading it back gives the same tokenizer', { skip: SKIP }, () => {
  const extra = [
    readFileSync(data('corpus', 'zh', 'song_ci.txt'), 'utf8').slice(0, 6_000),
    readFileSync(data('eval', 'humaneval', 'HumanEval.jsonl'), 'utf8').slice(0, 6_000),
    readFileSync(data('eval', 'gsm8k', 'test.jsonl'), 'utf8').slice(0, 6_000),
  ];
  for (const src of sources()) {
    const ours = tokenizerOf(src);
    const json = toHfJson(ours);
    const hf = new HfTokenizer(JSON.parse(JSON.stringify(json)), {});
    const back = new Tokenizer(hfJsonToSpec(JSON.stringify(json), 'tokenizer.json'));
    for (const s of [...vocabInputs('gpt-2'), ...extra]) {
      const a = Array.from(ours.encode(s, { special: 'all' }));
      assert.deepEqual(hf.encode(s, { add_special_tokens: false }).ids, a, `${src}: ${JSON.stringify(s.slice(0, 40))}`);
      assert.deepEqual(Array.from(back.encode(s, { special: 'all' })), a, `${src} reloaded: ${JSON.stringify(s.slice(0, 40))}`);
    }
  }
});

test('tokenizer.json with BOS post-processor: HF adds the same BOS we add', { skip: SKIP }, () => {
  const ours = tokenizerOf(data('tokenizers', 'deepseek-llm-vocab.gguf'));
  const hf = new HfTokenizer(toHfJson(ours), {});
  assert.deepEqual(hf.encode('Hello world').ids, Array.from(ours.encode('Hello world', { addBos: true })));
});

test('unknown components are refused with their path in the JSON', { skip: SKIP }, () => {
  const base = toHfJson(loadTokenizer(data('tokenizers', 'gpt-2-vocab.gguf'))) as Record<string, unknown>;
  const bad = (patch: Record<string, unknown>, re: RegExp) =>
    assert.throws(() => hfJsonToSpec(JSON.stringify({ ...base, ...patch }), 'x.json'), re);
  bad({ pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Metaspace' }] } }, /x\.json: pre_tokenizer\.pretokenizers\[0\]: unknown pre-tokenizer type "Metaspace"/);
  bad({ normalizer: { type: 'BertNormalizer' } }, /x\.json: normalizer: unknown normalizer type "BertNormalizer"/);
  bad({ decoder: { type: 'WordPiece' } }, /x\.json: decoder\.type: unknown or unsupported decoder "WordPiece"/);
  bad({ model: { ...(base.model as object), type: 'Unigram' } }, /x\.json: model\.type: .*"Unigram"/);
  bad({ pre_tokenizer: { type: 'Split', pattern: { Regex: '[a-z&&[^aeiou]]' }, behavior: 'Isolated', invert: false } }, /pre_tokenizer: regex .* not supported/);
  bad({ pre_tokenizer: { type: 'Split', pattern: { Regex: 'a' }, behavior: 'Sideways', invert: false } }, /pre_tokenizer: Split behavior "Sideways" is unknown/);
  assert.throws(() => hfJsonToSpec('{"model": ', 'y.json'), /y\.json: not valid JSON/);
});
