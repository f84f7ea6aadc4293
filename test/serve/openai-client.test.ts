// The official `openai` npm client, unchanged, against the server (fake engine): models, chat and
// completions, plain and streamed, n/seed/stop/logprobs, usage, and its error classes for our 400/401s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFake, type Running } from './helpers.js';

let s: Running;
let client: OpenAI;
before(async () => {
  s = await startFake({ apiKey: 'test-key', context: 256 });
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'test-key', maxRetries: 0 });
});
after(async () => { await s.close(); });

test('openai client: models.list', async () => {
  const page = await client.models.list();
  assert.deepEqual(page.data.map((m) => m.id), ['fake']);
});

test('openai client: chat.completions.create', async () => {
  const r = await client.chat.completions.create({
    model: 'fake', temperature: 0, max_tokens: 50,
    messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'say:Hi there' }],
  });
  assert.equal(r.choices[0].message.content, 'Hi there');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage!.completion_tokens, 8);
  assert.equal(r.usage!.total_tokens, r.usage!.prompt_tokens + 8);
});

test('openai client: chat streaming with usage, multi-turn, n, seed, stop, logprobs', async () => {
  const stream = await client.chat.completions.create({
    model: 'fake', stream: true, stream_options: { include_usage: true }, n: 2, seed: 5, temperature: 0.8,
    stop: ['!'], logprobs: true, top_logprobs: 1,
    messages: [{ role: 'user', content: 'say:first' }, { role: 'assistant', content: 'first' }, { role: 'user', content: 'say:second! not this' }],
  });
  const text = ['', ''];
  const tokens = [0, 0];
  const finish: (string | null)[] = [null, null];
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text[c.index] += c.delta.content ?? '';
      tokens[c.index] += c.logprobs?.content?.length ?? 0;
      if (c.finish_reason) finish[c.index] = c.finish_reason;
    }
  }
  assert.deepEqual(text, ['[5] second', '[6] second']);
  assert.deepEqual(finish, ['stop', 'stop']);
  // one logprob entry per generated token, the one that completed the stop string included (as the engine reports them)
  assert.deepEqual(tokens, [11, 11]);
  assert.ok(usage && usage.completion_tokens === 22, JSON.stringify(usage));
});

test('openai client: completions.create, plain and streamed', async () => {
  const r = await client.completions.create({ model: 'fake', prompt: 'say:abc', temperature: 0, logprobs: 1 });
  assert.equal(r.choices[0].text, 'abc');
  assert.deepEqual(r.choices[0].logprobs!.tokens, ['a', 'b', 'c']);
  const stream = await client.completions.create({ model: 'fake', prompt: 'go', temperature: 0, max_tokens: 12, stream: true });
  let text = '';
  let finish: string | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.text ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, 'The quick br');
  assert.equal(finish, 'length');
});

test('openai client: 400s arrive as BadRequestError with our message; a wrong key as AuthenticationError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'fake', messages: [{ role: 'user', content: 'hi' }], max_tokens: -1 }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && e.status === 400 && /max_tokens/.test(e.message) && (e.error as any)?.param === 'max_tokens',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'fake', messages: [{ role: 'user', content: 'x'.repeat(400) }] }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'other', messages: [{ role: 'user', content: 'hi' }] }),
    (e: unknown) => e instanceof OpenAI.NotFoundError,
  );
  const wrong = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'nope', maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
  // still serving
  const ok = await client.chat.completions.create({ model: 'fake', temperature: 0, messages: [{ role: 'user', content: 'say:up' }] });
  assert.equal(ok.choices[0].message.content, 'up');
});
