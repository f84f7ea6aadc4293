// The package root ('dsllm', the typed library API) exposes every area's entry points, and they work
// when imported from there (not only from their own modules).
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('the package root exports each area and they work through it', async () => {
  const api = await import('dsllm');
  for (const name of ['Tensor', 'DeepSeekLM', 'AdamW', 'loadConfig', 'learningRate', 'Tokenizer', 'loadTokenizer', 'TokenizerPool',
    'trainBpe', 'renderChat', 'createEngine', 'createDsllmServer', 'InferenceModel']) {
    assert.equal(typeof (api as Record<string, unknown>)[name], 'function', `dsllm exports ${name}`);
  }
  assert.equal(api.backend, 'native');
  // cl100k_base ids of "hello world" as tiktoken gives them
  assert.deepEqual(Array.from(api.loadTokenizer('cl100k_base').encode('hello world')), [15339, 1917]);
  const pool = await api.TokenizerPool.create({ path: 'cl100k_base' }, 1);
  try {
    const flat = await pool.encodeBatchFlat(['hello world', 'hello']);
    assert.deepEqual(Array.from(flat.ids), [15339, 1917, 15339]);
    assert.deepEqual(Array.from(flat.offsets), [0, 2, 3]);
  } finally {
    await pool.close();
  }
});
