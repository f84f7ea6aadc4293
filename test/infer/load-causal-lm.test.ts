// loadCausalLM: an HF directory with DeepSeek LLM's real tokenizer (the GGUF vocabulary from
// shared/data): padded vocabulary, EOS, BOS in the chat prompt, and the clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backends/select.js';
import { saveModel } from '../../src/io/hf-dir.js';
import { loadCausalLM } from '../../src/infer/load-causal-lm.js';
import { chatPromptIds } from '../../src/infer/chat-prompt.js';
import { InferenceError } from '../../src/infer/generate-errors.js';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { tinyModel } from './gen-helpers.js';
import { SKIP, data } from '../tokenizer/data.js';

await selectBackend();
const dir = mkdtempSync(join(tmpdir(), 'dsllm-load-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('DeepSeek vocabulary: 100,015 real ids of 102,400 rows, EOS 100001, BOS in the chat prompt', { skip: SKIP }, () => {
  const m = join(dir, 'ds');
  saveModel(tinyModel(1, { vocab_size: 102400, hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 }), m);
  writeFileSync(join(m, 'generation_config.json'), JSON.stringify({ bos_token_id: 100000, eos_token_id: 100001, do_sample: true, temperature: 0.7, top_p: 0.95 }));
  const gguf = data('tokenizers', 'deepseek-llm-vocab.gguf');
  const loaded = loadCausalLM(m, { tokenizer: gguf });
  assert.equal(loaded.model.vocabSize, 100015);
  assert.deepEqual(loaded.eosIds, [100001]);
  assert.deepEqual(loaded.sampling, { temperature: 0.7, topP: 0.95 });
  const tok = loadTokenizer(gguf);
  const ids = chatPromptIds(loaded.tokenizer!, loaded.chat, [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Bye' }]);
  // FACTS §9: <BOS>User: {u1}\n\nAssistant: {a1}<EOS>User: {u2}\n\nAssistant:
  const want = [100000, ...tok.encode('User: Hi\n\nAssistant: Hello!'), 100001, ...tok.encode('User: Bye\n\nAssistant:')];
  assert.deepEqual(Array.from(ids), want);
  loaded.model.dispose();
});

test('a tokenizer larger than the model, a GGUF path, a missing directory: clear errors', { skip: SKIP }, () => {
  const m = join(dir, 'small');
  saveModel(tinyModel(1), m);
  assert.throws(() => loadCausalLM(m, { tokenizer: data('tokenizers', 'deepseek-llm-vocab.gguf') }),
    (e: Error) => e instanceof InferenceError && /tokenizer has ids up to 100014 but the model's vocab_size is 64/.test(e.message));
  writeFileSync(join(dir, 'x.gguf'), 'GGUF');
  assert.throws(() => loadCausalLM(join(dir, 'x.gguf')), /x\.gguf/);
  assert.throws(() => loadCausalLM(join(dir, 'missing')), /missing: no such model directory/);
});
