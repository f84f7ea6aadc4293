// The HTTP API against the fake engine: routes, OpenAI shapes, usage, streaming (stop strings held
// back, UTF-8 intact), a 400 for every kind of bad input with the server still up afterwards, auth,
// cancellation when the client disconnects, and concurrent clients all served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { renderChat } from '../../src/tokenizer/chat-template.js';
import { FOX, byteTokenizer } from './fake-engine.js';
import { parseSse, post, startFake, until, type Running } from './helpers.js';

let s: Running;
before(async () => { s = await startFake({ context: 256 }); });
after(async () => { await s.close(); });

const chat = (body: object) => post(`${s.url}/v1/chat/completions`, { model: 'fake', ...body });
const completion = (body: object) => post(`${s.url}/v1/completions`, { model: 'fake', ...body });
const user = (content: string) => [{ role: 'user', content }];

async function healthy(): Promise<void> {
  const r = await fetch(`${s.url}/health`);
  assert.equal(r.status, 200);
  assert.equal((await r.json()).status, 'ok');
}

test('GET /health and /v1/models', async () => {
  await healthy();
  const r = await fetch(`${s.url}/v1/models`);
  const j = await r.json();
  assert.equal(j.object, 'list');
  assert.equal(j.data[0].id, 'fake');
  assert.equal(j.data[0].object, 'model');
  assert.equal((await (await fetch(`${s.url}/v1/models/fake`)).json()).id, 'fake');
  assert.equal((await fetch(`${s.url}/v1/models/other`)).status, 404);
});

test('chat: the answer, finish_reason and usage (prompt counted from the DeepSeek template)', async () => {
  const r = await chat({ messages: [{ role: 'system', content: 'Be brief.' }, ...user('say:hello')], temperature: 0 });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.object, 'chat.completion');
  assert.match(r.json.id, /^chatcmpl-/);
  assert.deepEqual(r.json.choices[0].message, { role: 'assistant', content: 'hello', refusal: null });
  assert.equal(r.json.choices[0].finish_reason, 'stop');
  const promptText = renderChat([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'say:hello' }]);
  const promptTokens = byteTokenizer().encode(promptText, { special: 'all' }).length;
  assert.deepEqual(r.json.usage, { prompt_tokens: promptTokens, completion_tokens: 5, total_tokens: promptTokens + 5 });
  // the engine saw exactly the rendered template (BOS as its id, not as text)
  const seen = s.engine.requests.at(-1)!;
  assert.equal(seen.prompt[0], 256);
  assert.equal(byteTokenizer().decode(seen.prompt), promptText);
});

test('chat: max_tokens → finish_reason length; max_completion_tokens is the same thing', async () => {
  const a = await chat({ messages: user('go'), temperature: 0, max_tokens: 7 });
  assert.equal(a.json.choices[0].finish_reason, 'length');
  assert.equal(a.json.usage.completion_tokens, 7);
  assert.equal(a.json.choices[0].message.content, FOX.slice(0, 7));
  const b = await chat({ messages: user('go'), temperature: 0, max_completion_tokens: 3 });
  assert.equal(b.json.usage.completion_tokens, 3);
});

test('chat: sampling fields reach the engine; n choices are separate requests with seeds seed+i', async () => {
  const before = s.engine.requests.length;
  const r = await chat({ messages: user('say:x'), n: 3, seed: 40, temperature: 0.5, top_p: 0.9, presence_penalty: 0.5, frequency_penalty: -0.5, top_k: 5, stop: 'zz' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json.choices.map((c: any) => c.message.content), ['[40] x', '[41] x', '[42] x']);
  assert.deepEqual(r.json.choices.map((c: any) => c.index), [0, 1, 2]);
  const reqs = s.engine.requests.slice(before);
  assert.equal(reqs.length, 3);
  assert.deepEqual(reqs[0].sampling, { temperature: 0.5, seed: 40, topP: 0.9, topK: 5, presencePenalty: 0.5, frequencyPenalty: -0.5 });
  assert.deepEqual(reqs[0].stop, ['zz']);
  assert.deepEqual(reqs[0].stopIds, [257]);
  assert.equal(r.json.usage.completion_tokens, 18);
});

test('chat: same seed ⇒ same answer', async () => {
  const a = await chat({ messages: user('say:y'), seed: 9 });
  const b = await chat({ messages: user('say:y'), seed: 9 });
  assert.equal(a.json.choices[0].message.content, b.json.choices[0].message.content);
});

test('chat: logprobs with top_logprobs', async () => {
  const r = await chat({ messages: user('say:ab'), temperature: 0, logprobs: true, top_logprobs: 2 });
  const lp = r.json.choices[0].logprobs.content;
  assert.equal(lp.length, 2);
  assert.equal(lp[0].token, 'a');
  assert.deepEqual(lp[0].bytes, [97]);
  assert.equal(lp[0].logprob, -0.25);
  assert.deepEqual(lp[0].top_logprobs.map((t: any) => t.token), ['a', 'b']);
  const none = await chat({ messages: user('say:ab'), temperature: 0 });
  assert.equal(none.json.choices[0].logprobs, null);
});

test('chat stream: role chunk, deltas that add up to the answer, finish chunk, usage, [DONE]', async () => {
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'fake', messages: user('go'), temperature: 0, max_tokens: 60, stream: true, stream_options: { include_usage: true } }),
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const events = parseSse(await res.text());
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1);
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
  const text = chunks.map((c: any) => c.choices[0]?.delta?.content ?? '').join('');
  // 60 bytes of FOX, cut on a character boundary by the engine's decoder
  assert.equal(text, new TextDecoder().decode(new TextEncoder().encode(FOX).slice(0, 60)).replace(/\uFFFD$/, ''));
  assert.ok(text.includes('café 😀'));
  const finish = chunks.filter((c: any) => c.choices[0]?.finish_reason);
  assert.equal(finish.length, 1);
  assert.equal(finish[0].choices[0].finish_reason, 'length');
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.equal(usage.usage.completion_tokens, 60);
  assert.ok(chunks.slice(0, -1).every((c: any) => c.usage === null), 'usage: null on every chunk but the last');
  assert.ok(chunks.length > 10, 'streamed in many chunks');
});

test('stream: a stop string split over tokens never reaches the client', async () => {
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'fake', messages: user('say:hello world, bye'), temperature: 0, stream: true, stop: ['o w', 'never'] }),
  });
  const chunks = parseSse(await res.text()).slice(0, -1);
  const deltas = chunks.map((c: any) => c.choices[0].delta.content ?? '');
  assert.equal(deltas.join(''), 'hell');
  assert.ok(!deltas.join('').includes('o'), 'no part of the stop string');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
});

test('completions: text prompts, prompt arrays × n numbered prompt-major, token-id prompts, usage', async () => {
  const r = await completion({ prompt: ['say:p', 'say:qq'], n: 2, temperature: 0, max_tokens: 10 });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.object, 'text_completion');
  assert.deepEqual(r.json.choices.map((c: any) => [c.index, c.text]), [[0, 'p'], [1, 'p'], [2, 'qq'], [3, 'qq']]);
  // BOS + the prompt bytes, each prompt counted once
  assert.equal(r.json.usage.prompt_tokens, 6 + 7);
  assert.equal(r.json.usage.completion_tokens, 1 + 1 + 2 + 2);
  const ids = await completion({ prompt: Array.from(new TextEncoder().encode('say:z')), temperature: 0 });
  assert.equal(ids.json.choices[0].text, 'z');
  assert.equal(ids.json.usage.prompt_tokens, 5);
  const dflt = await completion({ prompt: 'go', temperature: 0 });
  assert.equal(dflt.json.usage.completion_tokens, 16, 'OpenAI default max_tokens is 16');
});

test('completions: logprobs as parallel arrays with text offsets', async () => {
  const r = await completion({ prompt: 'say:abc', temperature: 0, logprobs: 2 });
  const lp = r.json.choices[0].logprobs;
  assert.deepEqual(lp.tokens, ['a', 'b', 'c']);
  assert.deepEqual(lp.text_offset, [0, 1, 2]);
  assert.deepEqual(lp.token_logprobs, [-0.25, -0.75, -1.25]);
  assert.deepEqual(Object.keys(lp.top_logprobs[0]), ['a', 'b']);
  const zero = await completion({ prompt: 'say:abc', temperature: 0, logprobs: 0 });
  assert.deepEqual(zero.json.choices[0].logprobs.top_logprobs, [{}, {}, {}]);
});

test('completions stream: text chunks, finish_reason, usage chunk, [DONE]', async () => {
  const res = await fetch(`${s.url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'fake', prompt: 'say:streamed', temperature: 0, stream: true, stream_options: { include_usage: true }, logprobs: 1 }),
  });
  const events = parseSse(await res.text());
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -2);
  assert.equal(chunks.map((c: any) => c.choices[0].text).join(''), 'streamed');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  assert.deepEqual(chunks.flatMap((c: any) => c.choices[0].logprobs.text_offset), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(events.at(-2).usage.completion_tokens, 8);
});

// ---- bad input: each a 400 in OpenAI's shape, and the server keeps serving ----

const BAD: [string, string | object, string | null][] = [
  ['malformed JSON', '{"model": "fake", "messages": [', null],
  ['empty body', '', null],
  ['a JSON array instead of an object', '[1, 2]', null],
  ['unknown field', { model: 'fake', messages: user('hi'), frobnicate: true }, 'frobnicate'],
  ['unknown field in stream_options', { model: 'fake', messages: user('hi'), stream: true, stream_options: { x: 1 } }, 'stream_options.x'],
  ['temperature of the wrong type', { model: 'fake', messages: user('hi'), temperature: 'hot' }, 'temperature'],
  ['temperature out of range', { model: 'fake', messages: user('hi'), temperature: 3 }, 'temperature'],
  ['negative max_tokens', { model: 'fake', messages: user('hi'), max_tokens: -5 }, 'max_tokens'],
  ['zero max_tokens', { model: 'fake', messages: user('hi'), max_tokens: 0 }, 'max_tokens'],
  ['fractional max_tokens', { model: 'fake', messages: user('hi'), max_tokens: 1.5 }, 'max_tokens'],
  ['missing messages', { model: 'fake' }, 'messages'],
  ['missing model', { messages: user('hi') }, 'model'],
  ['empty messages', { model: 'fake', messages: [] }, 'messages'],
  ['a message without content', { model: 'fake', messages: [{ role: 'user' }] }, 'messages[0].content'],
  ['an unknown role', { model: 'fake', messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
  ['n too large', { model: 'fake', messages: user('hi'), n: 1000 }, 'n'],
  ['stop of the wrong type', { model: 'fake', messages: user('hi'), stop: 5 }, 'stop'],
  ['five stop strings', { model: 'fake', messages: user('hi'), stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
  ['top_logprobs without logprobs', { model: 'fake', messages: user('hi'), top_logprobs: 2 }, 'top_logprobs'],
  ['prompt longer than the context', { model: 'fake', messages: user('x'.repeat(300)) }, 'messages'],
  ['prompt + max_tokens over the context', { model: 'fake', messages: user('x'.repeat(100)), max_tokens: 200 }, 'messages'],
];

for (const [what, body, param] of BAD) {
  test(`400 for ${what}; the server stays up`, async () => {
    const r = await post(`${s.url}/v1/chat/completions`, body);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.equal(typeof r.json.error.message, 'string');
    assert.equal(r.json.error.param, param);
    assert.ok('code' in r.json.error);
    await healthy();
  });
}

test('400s on /v1/completions: bad prompt, token id outside the vocabulary, over-long prompt', async () => {
  for (const [body, param, code] of [
    [{ prompt: 42 }, 'prompt', 'invalid_value'],
    [{ prompt: [1, 999] }, 'prompt', 'invalid_token_id'],
    [{ prompt: [1, -1] }, 'prompt[1]', 'invalid_value'],
    [{ prompt: 'x'.repeat(250), max_tokens: 20 }, 'prompt', 'context_length_exceeded'],
    [{ prompt: 'hi', logprobs: true }, 'logprobs', 'invalid_type'],
  ] as const) {
    const r = await completion(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error.param, param);
    assert.equal(r.json.error.code, code);
  }
  await healthy();
});

test('404 for unknown routes and models, 405 with Allow for wrong methods, 413 for huge bodies', async () => {
  const nf = await fetch(`${s.url}/v2/nothing`);
  assert.equal(nf.status, 404);
  assert.equal((await nf.json()).error.code, 'not_found');
  assert.equal((await fetch(`${s.url}/v1/embeddings`, { method: 'POST', body: '{}' })).status, 404);
  const wrongModel = await post(`${s.url}/v1/chat/completions`, { model: 'gpt-4', messages: user('hi') });
  assert.equal(wrongModel.status, 404);
  assert.equal(wrongModel.json.error.code, 'model_not_found');
  const m = await fetch(`${s.url}/v1/chat/completions`);
  assert.equal(m.status, 405);
  assert.equal(m.headers.get('allow'), 'POST');
  assert.equal((await fetch(`${s.url}/health`, { method: 'DELETE' })).status, 405);
  const big = await post(`${s.url}/v1/chat/completions`, { model: 'fake', messages: user('x'.repeat(5 * 1024 * 1024)) });
  assert.equal(big.status, 413);
  assert.equal(big.json.error.code, 'request_too_large');
  await healthy();
});

test('garbage that is not HTTP gets a 400 and the server stays up', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = connect(Number(new URL(s.url).port), '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d; });
    sock.on('end', () => resolve(got));
    sock.on('error', reject);
    sock.write('\x00\x01 NOT HTTP AT ALL\r\n\r\n');
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  await healthy();
});

test('the chat page is served at /', async () => {
  const r = await fetch(`${s.url}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type')!, /text\/html/);
  const html = await r.text();
  assert.match(html, /<title>dsllm chat<\/title>/);
  assert.ok(!/<script[^>]+src=|<link[^>]+href="(?!data:)/.test(html), 'self-contained: no external scripts or styles');
});

test('a client that disconnects mid-stream cancels its engine request', async () => {
  const cancelled = s.engine.cancelled;
  const ac = new AbortController();
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, signal: ac.signal,
    body: JSON.stringify({ model: 'fake', messages: user('go'), max_tokens: 200, stream: true }),
  });
  const reader = res.body!.getReader();
  await reader.read();
  await reader.read();
  ac.abort();
  await until(() => s.engine.cancelled === cancelled + 1 && s.engine.active === 0);
  const last = s.engine.requests.at(-1)!;
  assert.ok(last.signal?.aborted);
  await healthy();
});

test('a non-streaming client that disconnects cancels its engine requests too (all n of them)', async () => {
  const cancelled = s.engine.cancelled;
  const ac = new AbortController();
  const p = fetch(`${s.url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, signal: ac.signal,
    body: JSON.stringify({ model: 'fake', prompt: 'go', max_tokens: 200, n: 2 }),
  }).catch((e) => e);
  await until(() => s.engine.active === 2);
  ac.abort();
  assert.equal((await p).name, 'AbortError');
  await until(() => s.engine.cancelled === cancelled + 2 && s.engine.active === 0);
  await healthy();
});

test('16 concurrent streaming clients all complete, decoded together by the engine', async () => {
  s.engine.maxActive = 0;
  const results = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'fake', messages: user(`say:client ${i} ${'.'.repeat(80)} done`), temperature: 0, stream: true }),
    });
    const events = parseSse(await res.text());
    return { done: events.at(-1) === '[DONE]', text: events.slice(0, -1).map((c: any) => c.choices[0].delta.content ?? '').join('') };
  }));
  results.forEach((r, i) => {
    assert.ok(r.done, `client ${i} got [DONE]`);
    assert.equal(r.text, `client ${i} ${'.'.repeat(80)} done`);
  });
  assert.equal(s.engine.maxActive, 16, 'all 16 were in the engine at once');
  await healthy();
});

test('API key: 401 without or with a wrong key, 200 with it; / and /health stay open', async () => {
  const k = await startFake({ apiKey: 'sekret' });
  try {
    const none = await post(`${k.url}/v1/chat/completions`, { model: 'fake', messages: user('say:a') });
    assert.equal(none.status, 401);
    assert.equal(none.json.error.type, 'authentication_error');
    assert.equal((await post(`${k.url}/v1/chat/completions`, { model: 'fake', messages: user('say:a') }, { Authorization: 'Bearer nope' })).status, 401);
    assert.equal((await fetch(`${k.url}/v1/models`)).status, 401);
    const ok = await post(`${k.url}/v1/chat/completions`, { model: 'fake', messages: user('say:a'), temperature: 0 }, { Authorization: 'Bearer sekret' });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.choices[0].message.content, 'a');
    assert.equal((await fetch(`${k.url}/health`)).status, 200);
    assert.equal((await fetch(`${k.url}/`)).status, 200);
  } finally {
    await k.close();
  }
});

test('chat: the space after DeepSeek\'s "Assistant:" is not part of the content (streamed or not); completions keep it', async () => {
  const r = await chat({ messages: user('say: spaced out'), temperature: 0 });
  assert.equal(r.json.choices[0].message.content, 'spaced out');
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'fake', messages: user('say: spaced out'), temperature: 0, stream: true }),
  });
  const text = parseSse(await res.text()).slice(0, -1).map((c: any) => c.choices[0].delta.content ?? '').join('');
  assert.equal(text, 'spaced out');
  assert.equal((await completion({ prompt: 'say: spaced', temperature: 0 })).json.choices[0].text, ' spaced');
});

test('sampling defaults (generation_config) fill what a request leaves out; empty stop strings are ignored', async () => {
  const d = await startFake({ samplingDefaults: { temperature: 0, topK: 3, repetitionPenalty: 1.1 } });
  try {
    const r = await post(`${d.url}/v1/chat/completions`, { model: 'fake', messages: user('say:q'), stop: ['', 'zz'], top_k: 0 });
    assert.equal(r.json.choices[0].message.content, 'q', 'temperature 0 from the defaults: no [seed] prefix');
    const seen = d.engine.requests.at(-1)!;
    assert.equal(seen.sampling!.temperature, 0);
    assert.equal(seen.sampling!.topK, undefined, 'top_k 0 in the request turns the default off');
    assert.equal(seen.sampling!.repetitionPenalty, 1.1);
    assert.deepEqual(seen.stop, ['zz']);
  } finally {
    await d.close();
  }
});

test('an engine failure is a 500 (or an SSE error event mid-stream), and the server keeps serving', async () => {
  s.engine.onStep = (req, produced) => { if (produced === 3 && req.maxTokens === 33) throw new TypeError('kernel exploded'); };
  try {
    const r = await chat({ messages: user('go'), max_tokens: 33 });
    assert.equal(r.status, 500);
    assert.equal(r.json.error.type, 'server_error');
    assert.match(r.json.error.message, /kernel exploded/);
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'fake', messages: user('go'), max_tokens: 33, stream: true }),
    });
    assert.equal(res.status, 200);
    const events = parseSse(await res.text());
    assert.notEqual(events.at(-1), '[DONE]');
    assert.match(events.at(-1).error.message, /kernel exploded/);
  } finally {
    s.engine.onStep = undefined;
  }
  await healthy();
  assert.equal((await chat({ messages: user('say:fine'), temperature: 0 })).json.choices[0].message.content, 'fine');
});
