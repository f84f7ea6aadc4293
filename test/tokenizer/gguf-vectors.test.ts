// Exactness against llama.cpp's tokenizer test vectors (.inp/.out from llama.cpp's own tests; llama.cpp
// reproduces each .out). Every case of every vocabulary that ships a .out must match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { tokenizerOf } from './data.js';
import { SKIP, data, idsLine, vocabInputs, vocabOutputs } from './data.js';

for (const vocab of ['gpt-2', 'deepseek-coder', 'llama-bpe', 'qwen2', 'falcon']) {
  test(`${vocab}: every .inp case encodes to its .out ids and decodes back`, { skip: SKIP }, () => {
    const tok = loadTokenizer(data('tokenizers', `${vocab}-vocab.gguf`));
    const inp = vocabInputs(vocab), out = vocabOutputs(vocab);
    assert.ok(inp.length >= 40, `expected the full test set, found ${inp.length} cases`);
    inp.forEach((s, i) => {
      const ids = tok.encode(s);
      assert.equal(idsLine(ids), out[i], `case ${i} ${JSON.stringify(s)}`);
      assert.equal(tok.decode(ids), s, `round trip of case ${i}`);
    });
  });
}

// DeepSeek LLM: expected ids are held outside the repository; these anchors come from the facts
// sheet (llama.cpp PR #7033's check tokenization of deepseek-llm-7b-base, made with HF tokenizers).
test('deepseek-llm: anchors from the HF reference tokenization', { skip: SKIP }, () => {
  const tok = tokenizerOf(data('tokenizers', 'deepseek-llm-vocab.gguf'));
  const enc = (s: string) => Array.from(tok.encode(s));
  assert.deepEqual(enc(' 3 33 333'), [207, 18, 207, 18, 18, 207, 18, 18, 18]);
  assert.deepEqual(enc('3.3'), [18, 13, 18]);
  assert.deepEqual(enc('3..3'), [18, 526, 18]);
  assert.deepEqual(enc('1314151'), [16, 18, 16, 19, 16, 20, 16]);
  assert.deepEqual(enc('\n\n'), [185, 185]);
  assert.deepEqual(Array.from(tok.encode('Hi', { addBos: true })).slice(0, 1), [100000]);
  assert.equal(tok.spec.eos, 100001);
  assert.equal(tok.vocabSize, 102400);
  // every case round-trips
  for (const s of vocabInputs('gpt-2')) assert.equal(tok.decode(tok.encode(s)), s);
});

test('deepseek-llm: the 13 ids after EOS are the bytes UTF-8 never uses', { skip: SKIP }, () => {
  const tok = tokenizerOf(data('tokenizers', 'deepseek-llm-vocab.gguf'));
  const bytes = [];
  for (let id = 100002; id <= 100014; id++) bytes.push(tok.bpe.tokens[id]![0]);
  assert.deepEqual(bytes.sort((a, b) => a - b), [0xc0, 0xc1, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff]);
});

test('deepseek-llm pre-tokenizer: later stages re-split earlier pieces (FACTS §2.3)', { skip: SKIP }, () => {
  const tok = tokenizerOf(data('tokenizers', 'deepseek-llm-vocab.gguf'));
  assert.deepEqual(tok.pre.split(' Việt').pieces, [' Vi', 'ệ', 't']);
  assert.deepEqual(tok.pre.split('a  \n\nb').pieces, ['a', '  ', '\n', '\n', 'b']);
});
