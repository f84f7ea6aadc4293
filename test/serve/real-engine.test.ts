// The server over the real stack: a tiny random DeepSeek model saved as an HF directory (byte-level
// tokenizer.json), loaded with loadCausalLM, decoded by the continuous-batching engine. Greedy answers
// through HTTP match an independent full-recompute greedy decode, streaming matches non-streaming,
// 16 concurrent streaming clients get the same answers as one alone, and a disconnect cancels.
// Also `dsllm serve` itself: starts, answers, and shuts down cleanly on SIGINT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { selectBackend } from '../../src/backends/select.js';
import { saveModel } from '../../src/io/hf-dir.js';
import { saveHfJson } from '../../src/tokenizer/formats/load.js';
import { loadCausalLM, type LoadedModel } from '../../src/infer/load-causal-lm.js';
import { createEngine } from '../../src/infer/engine.js';
import { createDsllmServer, type DsllmServer } from '../../src/serve/server.js';
import type { Engine } from '../../src/infer/types.js';
import { tinyModel, referenceGreedy } from '../infer/gen-helpers.js';
import { BOS, EOS, byteTokenizer } from './fake-engine.js';
import { parseSse, post } from './helpers.js';

await selectBackend();
const dir = mkdtempSync(join(tmpdir(), 'dsllm-serve-real-'));
const modelDir = join(dir, 'tiny');
const lm = tinyModel(11, { vocab_size: 272, max_position_embeddings: 96, bos_token_id: BOS, eos_token_id: EOS });
saveModel(lm, modelDir);
saveHfJson(byteTokenizer(), join(modelDir, 'tokenizer.json'));

let loaded: LoadedModel;
let engine: Engine;
let server: DsllmServer;
let url: string;
before(async () => {
  loaded = loadCausalLM(modelDir);
  engine = createEngine(loaded.model, { tokenizer: loaded.tokenizer, eosIds: loaded.eosIds, maxBatch: 32 });
  server = createDsllmServer({ engine, tokenizer: loaded.tokenizer!, modelId: 'tiny', chatTemplate: loaded.chat.template, bosToken: loaded.chat.bosToken, eosToken: loaded.chat.eosToken, stopIds: loaded.eosIds });
  url = `http://127.0.0.1:${(await server.listen(0)).port}`;
});
after(async () => {
  await engine?.close();
  await server?.close();
  loaded?.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const tok = byteTokenizer();
/** what greedy decoding of the prompt gives, by the independent reference, as text */
function expected(promptIds: number[], n: number): { text: string; tokens: number } {
  const ids = referenceGreedy(lm, promptIds, n, 258, [EOS]);
  return { text: tok.decode(ids.filter((id) => id !== EOS)), tokens: ids.length };
}

test('real engine: greedy completion over HTTP = the reference greedy decode', async () => {
  const prompt = 'Hello, model';
  const want = expected([BOS, ...tok.encode(prompt)], 24);
  const r = await post(`${url}/v1/completions`, { model: 'tiny', prompt, temperature: 0, max_tokens: 24 });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.ok(want.tokens >= 8, 'a continuation long enough to mean something');
  assert.equal(r.json.choices[0].text, want.text);
  assert.equal(r.json.usage.completion_tokens, want.tokens);
  assert.equal(r.json.usage.prompt_tokens, 1 + prompt.length);
});

test('real engine: streamed chat = non-streamed chat; 16 concurrent streaming clients = one alone', async () => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say something.' }];
  const alone = await post(`${url}/v1/chat/completions`, { model: 'tiny', messages, temperature: 0, max_tokens: 30 });
  assert.equal(alone.status, 200, JSON.stringify(alone.json));
  const text = alone.json.choices[0].message.content;
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const answers = await Promise.all(Array.from({ length: 16 }, async () => {
    const stream = await client.chat.completions.create({ model: 'tiny', messages, temperature: 0, max_tokens: 30, stream: true });
    let t = '';
    for await (const chunk of stream) t += chunk.choices[0]?.delta.content ?? '';
    return t;
  }));
  answers.forEach((a, i) => assert.equal(a, text, `client ${i}`));
  // and sampled requests with a seed are reproducible
  const a = await post(`${url}/v1/chat/completions`, { model: 'tiny', messages, temperature: 1, seed: 3, max_tokens: 20 });
  const b = await post(`${url}/v1/chat/completions`, { model: 'tiny', messages, temperature: 1, seed: 3, max_tokens: 20 });
  assert.equal(a.json.choices[0].message.content, b.json.choices[0].message.content);
});

test('real engine: an over-long prompt is a 400 and the server stays up', async () => {
  const r = await post(`${url}/v1/completions`, { model: 'tiny', prompt: 'x'.repeat(200), max_tokens: 4 });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'context_length_exceeded');
  assert.equal((await fetch(`${url}/health`)).status, 200);
});

test('real engine: a disconnected streaming client is cancelled', async () => {
  const ac = new AbortController();
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, signal: ac.signal,
    body: JSON.stringify({ model: 'tiny', prompt: 'go', max_tokens: 90, stream: true }),
  });
  const reader = res.body!.getReader();
  await reader.read();
  ac.abort();
  const t0 = Date.now();
  while (server.context.active > 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
  assert.equal(server.context.active, 0);
  assert.equal((await fetch(`${url}/health`)).status, 200);
});

test('dsllm serve: starts, serves, stops on SIGINT', { timeout: 60_000 }, async () => {
  const cli = fileURLToPath(new URL('../../src/cli/index.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'serve', '--model', modelDir, '--port', '0', '--model-name', 'cli-tiny', '--api-key', 'k1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`dsllm serve exited with ${code}: ${err}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  assert.equal((await fetch(`${base}/v1/models`)).status, 401);
  const models = await (await fetch(`${base}/v1/models`, { headers: { Authorization: 'Bearer k1' } })).json();
  assert.equal(models.data[0].id, 'cli-tiny');
  const r = await post(`${base}/v1/chat/completions`, { model: 'cli-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, stream: true }, { Authorization: 'Bearer k1' });
  assert.equal(parseSse(r.json).at(-1), '[DONE]');
  const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve); child.kill('SIGINT'); });
  assert.equal(code, 0, err);
  assert.match(err, /POST \/v1\/chat\/completions 200/);
});

test('dsllm serve: a missing model directory is a one-line error, exit 2', async () => {
  const cli = fileURLToPath(new URL('../../src/cli/index.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'serve', '--model', join(dir, 'nope')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(err, /^dsllm: .*nope: no such model directory/);
});
