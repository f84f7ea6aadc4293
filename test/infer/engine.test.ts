// The engine against independent references: greedy output against a full-recompute argmax loop,
// batched requests against the same requests run alone, and scripted models for stop strings,
// UTF-8 boundaries, EOS, context limits and cancellation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backends/select.js';
import { RecomputeLM } from '../../src/infer/recompute.js';
import { InferenceModel } from '../../src/infer/model.js';
import { createEngine, heldBack, firstStop } from '../../src/infer/engine.js';
import { InferenceError } from '../../src/infer/generate-errors.js';
import type { GenerationRequest, TokenEvent } from '../../src/infer/types.js';
import { tinyModel, referenceGreedy, referenceLogits, byteTokenizer, bytesOf, ScriptedLM, SpyLM, EOS } from './gen-helpers.js';

await selectBackend();

test('greedy engine output equals the full-recompute argmax loop (padding rows masked)', async () => {
  const lm = tinyModel(11);
  // make two padding rows (ids 60..63 are padding with vocabSize 60) win every argmax if unmasked
  const C = lm.config.hidden_size;
  for (const r of [61, 62]) for (let c = 0; c < C; c++) lm.lm_head.f32[r * C + c] = lm.lm_head.f32[c] * 50;
  for (const model of [new RecomputeLM(lm, { vocabSize: 60 }), InferenceModel.fromModel(lm, { vocabSize: 60 })]) {
  const engine = createEngine(model, { eosIds: [] });
  for (const prompt of [[5], [3, 9, 27, 2, 44, 8, 13]]) {
    const r = await engine.generate({ prompt: Int32Array.from(prompt), maxTokens: 20, sampling: { temperature: 0 } });
    assert.deepEqual(r.ids, referenceGreedy(lm, prompt, 20, 60));
    assert.equal(r.finishReason, 'length');
    assert.equal(r.promptTokens, prompt.length);
    assert.equal(r.completionTokens, 20);
    assert.ok(r.ids.every((id) => id < 60));
  }
  await engine.close();
  }
});

test('N concurrent requests (mixed sampling, chunked prefill, more requests than batch slots) = each alone', async () => {
  const lm = tinyModel(5);
  const reqs: GenerationRequest[] = [
    { prompt: Int32Array.of(1, 2, 3), maxTokens: 9, sampling: { temperature: 0 } },
    { prompt: Int32Array.from({ length: 21 }, (_, i) => (i * 7) % 64), maxTokens: 7, sampling: { temperature: 1, seed: 3 } },
    { prompt: Int32Array.of(40), maxTokens: 12, sampling: { temperature: 0.8, topP: 0.9, seed: 9, repetitionPenalty: 1.3 } },
    { prompt: Int32Array.of(8, 8, 8, 8, 8), maxTokens: 6, sampling: { topK: 5, seed: 1, frequencyPenalty: 0.5 }, stopIds: [] },
    { prompt: Int32Array.of(17, 33), maxTokens: 10, sampling: { minP: 0.1, seed: 12, presencePenalty: 1 } },
  ];
  const alone = [];
  for (const r of reqs) {
    const e = createEngine(new RecomputeLM(lm));
    alone.push(await e.generate(r));
    await e.close();
  }
  // the oracle, and the KV-cached model whose linear layers really see every sequence's rows at once
  for (const inner of [new RecomputeLM(lm), InferenceModel.fromModel(lm)]) {
    const spy = new SpyLM(inner);
    const engine = createEngine(spy, { maxBatch: 3, prefillChunk: 4 });
    const together = await Promise.all(reqs.map((r) => engine.generate(r)));
    assert.deepEqual(together.map((r) => r.ids), alone.map((r) => r.ids), inner.constructor.name);
    assert.deepEqual(together.map((r) => r.finishReason), alone.map((r) => r.finishReason));
    // batching really happened, within the limits
    assert.ok(spy.log.some((s) => s.length >= 3), 'some step decoded 3 sequences together');
    assert.ok(spy.log.every((s) => s.length <= 3));
    assert.ok(spy.live.size <= 1, 'every cache freed but the one kept for prefix reuse');
    await engine.close();
    assert.equal(spy.live.size, 0, 'close frees the prefix cache');
  }
});

test('chunked prefill: a long prompt does not stall the decoding of others', async () => {
  const spy = new SpyLM(new RecomputeLM(tinyModel(2, { max_position_embeddings: 96 })));
  const engine = createEngine(spy, { prefillChunk: 8, eosIds: [] });
  const short = engine.generate({ prompt: Int32Array.of(4), maxTokens: 30, sampling: { temperature: 0 } });
  await new Promise((r) => setImmediate(r)); // the short one is decoding
  const long = engine.generate({ prompt: Int32Array.from({ length: 60 }, (_, i) => i % 64), maxTokens: 2, sampling: { temperature: 0 } });
  await Promise.all([short, long]);
  const longSeq = 2;
  const prefillSteps = spy.log.filter((s) => s.some((x) => x.seq === longSeq && x.n > 1));
  assert.ok(prefillSteps.length >= 60 / 8, `the 60-token prompt went in chunks (${prefillSteps.length} steps)`);
  for (const s of spy.log) assert.ok(s.filter((x) => x.n > 1).reduce((n, x) => n + x.n, 0) <= 8, 'at most 8 prompt tokens a step');
  assert.ok(prefillSteps.every((s) => s.some((x) => x.seq === 1 && x.n === 1)), 'the short request decoded a token in every prefill step');
  await engine.close();
});

test('cancellation: abort mid-generation ends with "cancelled", frees the cache, leaves others alone', async () => {
  const lm = tinyModel(4);
  const spy = new SpyLM(new RecomputeLM(lm));
  const engine = createEngine(spy, { eosIds: [] });
  const ac = new AbortController();
  const seen: TokenEvent[] = [];
  const a = engine.generate({ prompt: Int32Array.of(3), maxTokens: 40, sampling: { temperature: 0 }, signal: ac.signal }, (e) => {
    seen.push(e);
    if (seen.length === 5) ac.abort();
  });
  const b = engine.generate({ prompt: Int32Array.of(3), maxTokens: 12, sampling: { temperature: 0 } });
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.finishReason, 'cancelled');
  assert.equal(ra.ids.length, 5);
  assert.equal(rb.finishReason, 'length');
  assert.deepEqual(rb.ids, referenceGreedy(lm, [3], 12));
  assert.deepEqual(ra.ids, rb.ids.slice(0, 5));
  assert.deepEqual([...spy.live], [2], 'the cancelled request\'s cache (1) is freed; the finished one (2) kept for reuse');
  // already aborted: never admitted
  const pre = await engine.generate({ prompt: Int32Array.of(3), maxTokens: 5, signal: AbortSignal.abort() });
  assert.equal(pre.finishReason, 'cancelled');
  assert.equal(pre.ids.length, 0);
  // close() cancels what runs
  const c = engine.generate({ prompt: Int32Array.of(3), maxTokens: 40 });
  await new Promise((r) => setImmediate(r));
  await engine.close();
  assert.equal((await c).finishReason, 'cancelled');
  assert.equal(spy.live.size, 0);
  await assert.rejects(engine.generate({ prompt: Int32Array.of(3), maxTokens: 5 }), /engine is closed/);
});

/** an engine over a scripted byte model: after the prompt [0], it emits `script` */
function scripted(script: number[], ctx = 64) {
  const model = new ScriptedLM((t) => script[t.length - 1] ?? 32, ctx);
  return { model, engine: createEngine(model, { tokenizer: byteTokenizer() }) };
}

async function collect(engine: ReturnType<typeof createEngine>, req: GenerationRequest) {
  const events: TokenEvent[] = [];
  const r = await engine.generate(req, (e) => events.push(e));
  return { r, events, joined: events.map((e) => e.text).join('') };
}

test('stop strings across token boundaries: held back until settled, never in the output', async () => {
  const { engine, model } = scripted(bytesOf('Hi ST, STAR; Hello wor') .concat(bytesOf('ld!\n\nSTOP and more')));
  const { r, events, joined } = await collect(engine, { prompt: Int32Array.of(0), maxTokens: 60, stop: ['STOP', 'world!\n\n\n'] });
  assert.equal(r.text, 'Hi ST, STAR; Hello world!\n\n');
  assert.equal(joined, r.text);
  assert.equal(r.finishReason, 'stop');
  assert.equal(r.ids.length, bytesOf('Hi ST, STAR; Hello world!\n\nSTOP').length);
  // "S" of "ST," was held until "," showed it is no stop
  const iS = bytesOf('Hi S').length - 1;
  assert.equal(events[iS].text, '');
  assert.equal(events[iS + 2].text, 'ST,');
  // no event released a character of the stop string
  assert.ok(events.every((e) => !e.text.includes('STO')));
  assert.ok(model.live.size <= 1);
  // helpers
  assert.equal(heldBack('abcST', ['STOP', 'TX']), 2);
  assert.equal(heldBack('abcS', ['xyz']), 0);
  assert.equal(firstStop('a STOP b TX', ['TX', 'STOP']), 2);
});

test('multibyte characters split across tokens come out whole, never half', async () => {
  const s = 'é 漢字 😀!';
  const { engine } = scripted(bytesOf(s).concat([EOS]));
  const { r, events, joined } = await collect(engine, { prompt: Int32Array.of(0), maxTokens: 40 });
  assert.equal(r.text, s);
  assert.equal(joined, s);
  assert.equal(r.finishReason, 'stop');
  assert.equal(r.ids[r.ids.length - 1], EOS);
  assert.ok(events.every((e) => !e.text.includes('\uFFFD')));
  // the emoji's four bytes: three empty events, then the whole character
  const at = bytesOf('é 漢字 ').length;
  assert.deepEqual(events.slice(at, at + 4).map((e) => e.text), ['', '', '', '😀']);
  // a stop string made of a multibyte character, matched across its bytes
  const { engine: e2 } = scripted(bytesOf(s));
  const { r: r2 } = await collect(e2, { prompt: Int32Array.of(0), maxTokens: 40, stop: ['字'] });
  assert.equal(r2.text, 'é 漢');
  // cut by max tokens in the middle of a character: the unfinished one becomes U+FFFD at the end
  const { engine: e3 } = scripted(bytesOf(s));
  const { r: r3, joined: j3 } = await collect(e3, { prompt: Int32Array.of(0), maxTokens: bytesOf('é 漢').length + 1 });
  assert.equal(r3.text, 'é 漢\uFFFD');
  assert.equal(j3, r3.text);
  assert.equal(r3.finishReason, 'length');
});

test('EOS by default, stopIds override, held text released at EOS', async () => {
  const { engine } = scripted(bytesOf('ab S').concat([EOS], bytesOf('cd')));
  const a = await collect(engine, { prompt: Int32Array.of(0), maxTokens: 20, stop: ['STOP'] });
  assert.equal(a.r.text, 'ab S');
  assert.equal(a.joined, 'ab S');
  assert.equal(a.r.finishReason, 'stop');
  const b = await engine.generate({ prompt: Int32Array.of(0), maxTokens: 7, stopIds: [] });
  assert.equal(b.text, 'ab Scd'); // the special EOS decodes to nothing
  assert.equal(b.finishReason, 'length');
});

test('context limits: prompt too long is refused, generation stops at the context', async () => {
  const { engine } = scripted(bytesOf('xxxxxxxxxxxxxxxxxxxxxxxx'), 16);
  await assert.rejects(engine.generate({ prompt: new Int32Array(16), maxTokens: 1 }),
    (e: Error) => e instanceof InferenceError && /prompt has 16 tokens; the model's context is 16/.test(e.message));
  await assert.rejects(engine.generate({ prompt: new Int32Array(0), maxTokens: 1 }), /prompt is empty/);
  await assert.rejects(engine.generate({ prompt: Int32Array.of(300), maxTokens: 1 }), /id 300, outside the model's vocabulary \(0\.\.259\)/);
  await assert.rejects(engine.generate({ prompt: Int32Array.of(1), maxTokens: -1 }), /maxTokens -1/);
  await assert.rejects(engine.generate({ prompt: [1, 2.5] as unknown as Int32Array, maxTokens: 1 }), /must be token ids/);
  assert.equal((await engine.generate({ prompt: [1, 2] as unknown as Int32Array, maxTokens: 1 })).ids.length, 1);
  await assert.rejects(engine.generate({ prompt: Int32Array.of(1), maxTokens: 3, stop: [''] }), /non-empty strings/);
  const r = await engine.generate({ prompt: new Int32Array(12), maxTokens: 100 });
  assert.equal(r.ids.length, 4); // 12 + 4 = 16 = the context
  assert.equal(r.finishReason, 'length');
  const z = await engine.generate({ prompt: Int32Array.of(1), maxTokens: 0 });
  assert.deepEqual([z.ids, z.finishReason], [[], 'length']);
});

test('logprobs: the chosen token and top alternatives from the model logits', async () => {
  const lm = tinyModel(9);
  const engine = createEngine(new RecomputeLM(lm), { tokenizer: undefined, eosIds: [] });
  const r = await engine.generate({ prompt: Int32Array.of(7, 3), maxTokens: 4, sampling: { temperature: 0.9, seed: 2 }, logprobs: 3 });
  assert.equal(r.tokens!.length, 4);
  const ids = [7, 3];
  for (const t of r.tokens!) {
    const l = referenceLogits(lm, ids);
    const mx = Math.max(...l), lse = mx + Math.log(l.reduce((s, v) => s + Math.exp(v - mx), 0));
    assert.ok(Math.abs(t.logprob! - (l[t.id] - lse)) < 1e-4, `logprob ${t.logprob} vs ${l[t.id] - lse}`);
    const order = Array.from(l.keys()).sort((a, b) => l[b] - l[a]).slice(0, 3);
    assert.deepEqual(t.top!.map((x) => x.id), order);
    ids.push(t.id);
  }
  await engine.close();
});

test('a throwing callback or model step fails its own requests; the engine keeps serving', async () => {
  let failNext = false;
  const model = new ScriptedLM((t) => 65 + (t.length % 3));
  const step = model.step.bind(model);
  model.step = (inputs) => { if (failNext) { failNext = false; throw new Error('device lost'); } return step(inputs); };
  const engine = createEngine(model, { tokenizer: byteTokenizer() });
  const bad = engine.generate({ prompt: Int32Array.of(0), maxTokens: 5 }, () => { throw new Error('client went away'); });
  const good = engine.generate({ prompt: Int32Array.of(0), maxTokens: 5 });
  await assert.rejects(bad, /client went away/);
  assert.equal((await good).text, 'BCABC');
  failNext = true;
  await assert.rejects(engine.generate({ prompt: Int32Array.of(0), maxTokens: 5 }), /device lost/);
  assert.equal((await engine.generate({ prompt: Int32Array.of(0), maxTokens: 3 })).text, 'BCA');
  await engine.close();
  assert.equal(model.live.size, 0);
});

test('prefix cache: a prompt extending a finished conversation prefills only the new tokens, same output', async () => {
  const lm = tinyModel(6, { max_position_embeddings: 96 });
  for (const inner of [new RecomputeLM(lm), InferenceModel.fromModel(lm)]) {
    const spy = new SpyLM(inner);
    const engine = createEngine(spy, { eosIds: [], prefixCache: 2 });
    const fresh = createEngine(new RecomputeLM(lm), { eosIds: [], prefixCache: 0 });
    const turn1 = Int32Array.of(5, 6, 7, 8, 9, 10);
    const r1 = await engine.generate({ prompt: turn1, maxTokens: 6, sampling: { temperature: 0 } });
    // turn 2: the whole first exchange plus new tokens
    const turn2 = Int32Array.from([...turn1, ...r1.ids, 11, 12, 13]);
    const before = spy.log.length;
    const r2 = await engine.generate({ prompt: turn2, maxTokens: 6, sampling: { temperature: 0.9, seed: 4 } });
    assert.deepEqual(r2.ids, (await fresh.generate({ prompt: turn2, maxTokens: 6, sampling: { temperature: 0.9, seed: 4 } })).ids, inner.constructor.name);
    // reused: prompt + 5 fed generated tokens; prefilled: the never-fed last token and the 3 new ones
    assert.equal(engine.reusedTokens, turn1.length + 5);
    assert.equal(spy.log[before][0].n, 4);
    // a prompt that diverges early reuses the common part only; an unrelated one starts afresh
    const r3 = await engine.generate({ prompt: Int32Array.of(5, 6, 7, 40, 41), maxTokens: 2, sampling: { temperature: 0 } });
    assert.equal(engine.reusedTokens, turn1.length + 5 + 3);
    assert.deepEqual(r3.ids, (await fresh.generate({ prompt: Int32Array.of(5, 6, 7, 40, 41), maxTokens: 2, sampling: { temperature: 0 } })).ids);
    await engine.generate({ prompt: Int32Array.of(50, 51), maxTokens: 2 });
    assert.equal(engine.reusedTokens, turn1.length + 5 + 3);
    assert.ok(spy.live.size <= 2);
    await engine.close();
    await fresh.close();
    assert.equal(spy.live.size, 0);
  }
});
