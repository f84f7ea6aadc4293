// Correctness against an independent implementation: models exported to GGUF run in llama.cpp (the
// node-llama-cpp package, pinned 3.21.1) and compute what dsllm computes. "Ours" is DeepSeekLM's
// full-recompute f32 forward (hidden() + lm_head). Prompts are token ids, so no tokenizer is involved
// in the comparison. Logits are compared as log-softmax (llama.cpp hands out probabilities, which fix
// the logits up to a constant shift per row).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backends/select.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';
import { Tensor } from '../../src/core/tensor.js';
import { noGrad } from '../../src/core/autograd.js';
import { scope } from '../../src/core/scope.js';
import { linear } from '../../src/ops/linear.js';
import { train } from '../../src/train/trainer.js';
import { loadModel } from '../../src/io/hf-dir.js';
import { exportGguf } from '../../src/io/gguf-export.js';
import { loadGgufModel } from '../../src/io/gguf-weights.js';
import { trainBpe } from '../../src/tokenizer/trainer.js';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { GgufWeightSource } from '../../src/io/gguf-weights.js';
import { InferenceModel } from '../../src/infer/model.js';
import type { CausalLM } from '../../src/infer/types.js';
import { loadLlamaCpp, llamaCppGreedy, llamaCppLastHidden, type LlamaCppRun } from '../../bench/llama-cpp.js';
import { readGguf } from '../../src/io/gguf.js';
import { ggmlReferenceLogits } from './ggml-reference.js';
import { SKIP as NO_DATA, data } from '../tokenizer/data.js';
import { trainTinyShakespeare } from '../tiny-trained.js';

await selectBackend('native');
const peer = await loadLlamaCpp();
const SKIP = 'error' in peer ? `skipped: ${peer.error}` : NO_DATA;
const dir = mkdtempSync(join(tmpdir(), 'dsllm-gguf-llama-'));

/** log-softmax of each row of logits [T, V], in f64 */
function logSoftmax(logits: Float32Array, V: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let t = 0; t < logits.length / V; t++) {
    const r = logits.subarray(t * V, (t + 1) * V);
    let mx = -Infinity;
    for (const v of r) mx = Math.max(mx, v);
    let s = 0;
    for (const v of r) s += Math.exp(v - mx);
    const lse = mx + Math.log(s);
    rows.push(Float64Array.from(r, (v) => v - lse));
  }
  return rows;
}

function forwardLogits(model: DeepSeekLM, ids: number[]): Float32Array {
  return noGrad(() => scope(() => {
    const h = model.hidden(Tensor.from(ids, [1, ids.length], 'i32'));
    return Float32Array.from(linear(h, model.lm_head).f32);
  }));
}

/** greedy continuation by full recompute, and the log-softmax after every position */
function oursGreedy(model: DeepSeekLM, prompt: number[], maxNew: number): { generated: number[]; logprobs: Float64Array[] } {
  const V = model.config.vocab_size;
  const ids = prompt.slice();
  const generated: number[] = [];
  for (let i = 0; i < maxNew; i++) {
    const logits = forwardLogits(model, ids);
    const last = logits.subarray(logits.length - V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
    generated.push(best);
    ids.push(best);
  }
  return { generated, logprobs: logSoftmax(forwardLogits(model, ids.slice(0, -1)), V) };
}

/** greedy continuation with the inference model's KV cache, a token at a time after the prompt. The prompt
 *  goes in one prefill step, or ('stepwise') one token per step: every matmul then takes the quantized dot
 *  mode, the path decoding takes */
function causalGreedy(m: CausalLM, prompt: number[], maxNew: number, prefill: 'batched' | 'stepwise' = 'batched'): { generated: number[]; logprobs: Float64Array[] } {
  const V = m.config.vocab_size;
  const seq = m.newSequence(prompt.length + maxNew);
  const logprobs = prefill === 'batched'
    ? logSoftmax(m.step([{ seq, tokens: Int32Array.from(prompt), allLogits: true }]), V)
    : prompt.flatMap((t) => logSoftmax(m.step([{ seq, tokens: Int32Array.of(t) }]), V));
  const generated: number[] = [];
  for (;;) {
    const last = logprobs[logprobs.length - 1];
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
    generated.push(best);
    if (generated.length === maxNew) break;
    logprobs.push(...logSoftmax(m.step([{ seq, tokens: Int32Array.of(best) }]), V));
  }
  m.freeSequence(seq);
  return { generated, logprobs };
}

/** the GGUF file run by dsllm's inference model (weights as stored), against llama.cpp's run */
function checkCausal(path: string, theirs: LlamaCppRun, prompt: number[], maxNew: number, what: string): number {
  const m = InferenceModel.fromSource(new GgufWeightSource(path));
  try {
    const mine = causalGreedy(m, prompt, maxNew);
    assert.deepEqual(mine.generated, theirs.generated, `${what}: InferenceModel greedy continuation`);
    return maxAbsDiff(mine.logprobs, theirs.logprobs);
  } finally {
    m.dispose();
  }
}

function maxAbsDiff(a: Float64Array[], b: Float64Array[]): number {
  assert.equal(a.length, b.length, 'rows');
  let m = 0;
  for (let t = 0; t < a.length; t++) for (let v = 0; v < a[t].length; v++) m = Math.max(m, Math.abs(a[t][v] - b[t][v]));
  return m;
}

/**
 * Raw logits: llama.cpp's final hidden state at the end of several prefixes of `ids`, times the
 * model's output matrix in f64, against dsllm's logits there. Max abs diff over prefixes and vocab.
 */
async function rawLogitDiff(path: string, model: DeepSeekLM, ids: number[], cuts: number[]): Promise<number> {
  const V = model.config.vocab_size, d = model.config.hidden_size, W = model.lm_head.f32;
  let m = 0;
  for (const n of cuts) {
    const h = await llamaCppLastHidden(path, ids.slice(0, n));
    const ours = forwardLogits(model, ids.slice(0, n)).subarray((n - 1) * V);
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += h[j] * W[v * d + j];
      m = Math.max(m, Math.abs(s - ours[v]));
    }
  }
  return m;
}

async function compare(path: string, model: DeepSeekLM, prompt: number[], maxNew: number) {
  const theirs = await llamaCppGreedy(path, prompt, maxNew);
  const ours = oursGreedy(model, prompt, maxNew);
  return { theirs, ours, diff: maxAbsDiff(ours.logprobs, theirs.logprobs) };
}

test('a dsllm-trained model (byte-level vocabulary) exported to GGUF f32: llama.cpp continues it identically', { skip: SKIP, timeout: 300_000 }, async () => {
  const run = trainTinyShakespeare(dir, data('corpus', 'en', 'tinyshakespeare.txt'));
  const model = loadModel(run.checkpoint);
  const path = join(dir, 'trained-f32.gguf');
  exportGguf(model, path, { type: 'f32' });
  const prompt = Array.from(Buffer.from('ROMEO:\nWhat light through yonder'));
  const { theirs, ours, diff } = await compare(path, model, prompt, 80);
  assert.deepEqual(theirs.generated, ours.generated, 'greedy continuation of 80 tokens');
  assert.ok(diff <= 1e-3, `log-softmax max abs diff ${diff}`);
  const dc = checkCausal(path, theirs, prompt, 80, 'trained');
  assert.ok(dc <= 1e-3, `InferenceModel log-softmax max abs diff ${dc}`);
  const all = [...prompt, ...ours.generated];
  const dRaw = await rawLogitDiff(path, model, all, [prompt.length, prompt.length + 40, all.length - 1]);
  assert.ok(dRaw <= 1e-3, `raw logits max abs diff ${dRaw}`);
  console.log(`trained: raw logits (llama.cpp hidden state × output) max abs diff ${dRaw.toExponential(2)}`);
  console.log(`trained: 80 greedy tokens identical, max |Δ log p| = ${diff.toExponential(2)} (DeepSeekLM), ${dc.toExponential(2)} (InferenceModel on the GGUF) over ${ours.logprobs.length} positions; text ${JSON.stringify(Buffer.from(ours.generated.filter((t) => t < 256)).toString('latin1'))}`);
});

// 7B-shaped (SwiGLU width 2.6875·d rounded to the block, GQA 8:2, head 32), random weights, a small
// BPE vocabulary with DeepSeek's pre-tokenizer, specials and padding rows
const gqa = validateConfig({
  vocab_size: 512, hidden_size: 256, intermediate_size: 704, num_hidden_layers: 4, num_attention_heads: 8,
  num_key_value_heads: 2, max_position_embeddings: 512, rms_norm_eps: 1e-6, rope_theta: 10000,
});
let gqaModel: DeepSeekLM | null = null;
let bpePath = '';
async function gqaSetup(): Promise<DeepSeekLM> {
  if (gqaModel) return gqaModel;
  const text = join(dir, 'stories.txt');
  writeFileSync(text, readFileSync(data('corpus', 'en', 'tinystories_sample.txt'), 'utf8').slice(0, 100_000));
  const { tokenizer } = await trainBpe({ vocabSize: 480, inputs: [text], padToMultiple: 512, threads: 1 });
  assert.equal(tokenizer.vocabSize, 512);
  gqaModel = new DeepSeekLM(gqa, { seed: 42, initStd: 0.05 });
  bpePath = join(dir, 'gqa-f32.gguf');
  exportGguf(gqaModel, bpePath, { type: 'f32', tokenizer });
  return gqaModel;
}
const PROMPT = [100, 7, 311, 42, 5, 260, 77, 13, 400, 1];

test('random 7B-shaped GQA model with a BPE vocabulary, GGUF f32: llama.cpp agrees on 64 greedy tokens and logits', { skip: SKIP, timeout: 300_000 }, async () => {
  const model = await gqaSetup();
  const { theirs, ours, diff } = await compare(bpePath, model, PROMPT, 64);
  assert.deepEqual(theirs.generated, ours.generated, 'greedy continuation of 64 tokens');
  assert.ok(diff <= 1e-3, `log-softmax max abs diff ${diff}`);
  const dc = checkCausal(bpePath, theirs, PROMPT, 64, 'gqa');
  assert.ok(dc <= 1e-3, `InferenceModel log-softmax max abs diff ${dc}`);
  const all = [...PROMPT, ...ours.generated];
  const dRaw = await rawLogitDiff(bpePath, model, all, [PROMPT.length, PROMPT.length + 32, all.length - 1]);
  assert.ok(dRaw <= 1e-3, `raw logits max abs diff ${dRaw}`);
  console.log(`gqa f32: raw logits (llama.cpp hidden state × output) max abs diff ${dRaw.toExponential(2)}`);
  console.log(`gqa f32: 64 greedy tokens identical, max |Δ log p| = ${diff.toExponential(2)} (DeepSeekLM), ${dc.toExponential(2)} (InferenceModel on the GGUF)`);
  // the vocabulary went along: llama.cpp tokenizes text as dsllm does
  const p = 'error' in peer ? null : peer;
  const lm = await p!.llama.loadModel({ modelPath: bpePath, vocabOnly: true });
  try {
    const tok = loadTokenizer(bpePath);
    for (const s of ['Once upon a time, there was a little dog named Max.', ' He liked  to run\n\nand 123 jump!', 'Lily said: "I can\'t!"']) {
      assert.deepEqual(Array.from(lm.tokenize(s, false) as number[]), Array.from(tok.encode(s)), JSON.stringify(s));
    }
  } finally {
    await lm.dispose();
  }
});

/** max |Δ log p| of each row (over the ids llama.cpp reports) */
function rowDiffs(a: Float64Array[], b: Float64Array[]): number[] {
  assert.equal(a.length, b.length, 'rows');
  return a.map((r, t) => { let m = 0; for (let v = 0; v < r.length; v++) if (Number.isFinite(b[t][v])) m = Math.max(m, Math.abs(r[v] - b[t][v])); return m; });
}

for (const type of ['q8_0', 'q4_0'] as const) {
  test(`the GQA model exported as ${type}: dsllm's ${type} kernels compute llama.cpp's logits (to float rounding) and its 64 greedy tokens`, { skip: SKIP, timeout: 300_000 }, async () => {
    const model = await gqaSetup();
    const path = join(dir, `gqa-${type}.gguf`);
    exportGguf(model, path, { type, tokenizer: loadTokenizer(bpePath) });
    const deq = loadGgufModel(path);
    const prompt = [...PROMPT, 9, 99, 199, 299, 399, 499, 3, 33, 333, 44];
    const theirs = await llamaCppGreedy(path, prompt, 1);
    const V = gqa.vocab_size;
    const dLlama = maxAbsDiff(theirs.logprobs, logSoftmax(forwardLogits(deq, prompt), V));
    const dWeights = maxAbsDiff(logSoftmax(forwardLogits(model, prompt), V), logSoftmax(forwardLogits(deq, prompt), V));
    console.log(`${type}: max |Δ log p| llama.cpp vs dsllm dequantized (f32 activations) ${dLlama.toExponential(2)}; dequantized vs unquantized ${dWeights.toExponential(2)}`);
    // llama.cpp quantizes the activations to Q8_0 for these matmuls, the f32 model does not: close, not equal
    assert.ok(dLlama <= 0.1, `log-softmax max abs diff ${dLlama}`);
    if (type === 'q4_0') assert.ok(dLlama < 0.25 * dWeights, `llama.cpp ${dLlama} vs weight quantization error ${dWeights}`);
    // dsllm's inference model on the same file, weights kept quantized: activations quantized and the
    // f32 sums taken as ggml's x86 kernels do (native/quant_dot.h), rmsnorm's scale as ggml computes
    // it, so every matmul and norm of a step is llama.cpp's to the bit. What remains is float noise of
    // the other ops (RoPE tables, softmax exp, SiLU, attention sums: a few ulp), seen through the
    // softmax that hands llama.cpp's logits out: 1e-5 over the 20 prompt positions, where llama.cpp
    // runs its batched kernels (same numerics) and dsllm one token per step
    const m = InferenceModel.fromSource(new GgufWeightSource(path));
    try {
      const seq = m.newSequence(prompt.length);
      const rows = prompt.flatMap((t) => logSoftmax(m.step([{ seq, tokens: Int32Array.of(t) }]), V));
      m.freeSequence(seq);
      const dInfer = maxAbsDiff(rows, theirs.logprobs);
      console.log(`${type}: InferenceModel (${type} kernels, token by token) vs llama.cpp: max |Δ log p| ${dInfer.toExponential(2)} over ${rows.length} positions`);
      assert.ok(dInfer <= 1e-5, `InferenceModel vs llama.cpp ${dInfer}`);
      // 64 greedy tokens, llama.cpp decoding with its gemv / vec_dot kernels. The last-bit noise of the
      // other ops now and then moves one activation across a Q8_0 rounding boundary (seen here for
      // q8_0 after ~35 tokens), after which that position's log-probs differ by ~1e-2 — the size of
      // one quantization step, not of an error; most positions stay at float rounding
      const want = await llamaCppGreedy(path, PROMPT, 64);
      const mine = causalGreedy(m, PROMPT, 64, 'stepwise');
      assert.deepEqual(mine.generated, want.generated, `${type}: 64 greedy tokens`);
      const d = rowDiffs(mine.logprobs, want.logprobs);
      const exact = d.filter((x) => x <= 1e-5).length;
      console.log(`${type}: 64 greedy tokens identical; ${exact}/${d.length} positions within 1e-5, max |Δ log p| ${Math.max(...d).toExponential(2)}`);
      assert.ok(exact >= 0.6 * d.length, `${exact}/${d.length} positions within 1e-5`);
      assert.ok(Math.max(...d) <= 0.05, `max |Δ log p| ${Math.max(...d)}`);
    } finally {
      m.dispose();
    }
  });
}

test('a ggml-faithful reference (activations rounded/quantized as ggml does) matches llama.cpp on F16, BF16, Q8_0 and Q4_0 exports', { skip: SKIP, timeout: 300_000 }, async () => {
  const model = await gqaSetup();
  const V = gqa.vocab_size;
  for (const type of ['f16', 'bf16', 'q8_0', 'q4_0'] as const) {
    const path = join(dir, `gqa-ref-${type}.gguf`);
    exportGguf(model, path, { type, tokenizer: loadTokenizer(bpePath) });
    const f = readGguf(path);
    // position 0 of single-token prompts: each row a separate check. An f32 summation order that
    // differs in the last bit can move one activation across a rounding boundary, which this random
    // model amplifies (to ~1e-2), so most rows, not all, must agree to the ulp-level
    const diffs: number[] = [];
    for (const id of [3, 50, 100, 222, 311, 400, 450, 499]) {
      const theirs = (await llamaCppGreedy(path, [id], 1)).logprobs[0];
      const ref = logSoftmax(ggmlReferenceLogits(f, [id])[0], V)[0];
      diffs.push(maxAbsDiff([ref], [theirs]));
    }
    const close = diffs.filter((x) => x <= 1e-5).length;
    console.log(`${type}: ggml reference vs llama.cpp, max |Δ log p| per prompt: ${diffs.map((x) => x.toExponential(1)).join(' ')}`);
    // Q8_0/Q4_0: the reference takes the quantized matmuls' f32 sums and rms_norm's scale in ggml's
    // order, so a row differs only where SiLU's last bit moves an activation across a Q8_0 rounding
    // boundary (none seen here). F16/BF16: the reference sums those dots in f64, not in ggml's
    // vec_dot_f16 lanes, and f16 rounding (11 bits) crosses boundaries far more often than Q8_0's 127
    // steps of a block maximum
    assert.ok(close >= (type === 'f16' ? 1 : type === 'bf16' ? 4 : 7), `${close}/8 rows within 1e-5`);
    assert.ok(Math.max(...diffs) <= (type.startsWith('q') ? 0.05 : 0.02), `all rows within tolerance`);
  }
});

test('DeepSeek LLM\'s vocabulary (102,400 ids, pre-tokenizer deepseek-llm) exported with a model: llama.cpp tokenizes as dsllm', { skip: SKIP, timeout: 300_000 }, async () => {
  const tok = loadTokenizer(data('tokenizers', 'deepseek-llm-vocab.gguf'));
  const model = new DeepSeekLM(validateConfig({
    vocab_size: 102400, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1, num_attention_heads: 4, tie_word_embeddings: true,
  }), { seed: 1 });
  const path = join(dir, 'deepseek-vocab.gguf');
  exportGguf(model, path, { type: 'q8_0', tokenizer: tok });
  const lm = await (peer as Exclude<typeof peer, { error: string }>).llama.loadModel({ modelPath: path, vocabOnly: true });
  assert.equal(new GgufWeightSource(path).tokenizerVocabSize(), 100015, 'the paper\'s 100,015 real tokens; the rest is padding');
  try {
    assert.equal(lm.tokens.bos, 100000);
    assert.equal(lm.tokens.eos, 100001);
    const cases = readFileSync(data('tokenizers', 'gpt-2-vocab.gguf.inp'), 'utf8').split('\n__ggml_vocab_test__\n');
    assert.ok(cases.length >= 40);
    for (const s of [...cases, 'User: 你好，世界！\n\nAssistant: Việt 3.14159 ']) {
      assert.deepEqual(Array.from(lm.tokenize(s, false) as number[]), Array.from(tok.encode(s)), JSON.stringify(s));
    }
    const meta = lm.fileInfo.metadata as unknown as { tokenizer: { chat_template?: string; ggml: { pre: string } } };
    assert.equal(meta.tokenizer.ggml.pre, 'deepseek-llm');
    assert.match(meta.tokenizer.chat_template ?? '', /'Assistant:'/, 'DeepSeek chat template embedded');
  } finally {
    await lm.dispose();
  }
});

test('other byte-level BPE vocabularies (gpt-2, llama-bpe, qwen2, falcon, deepseek-coder) re-exported: llama.cpp tokenizes every test case as dsllm', { skip: SKIP, timeout: 300_000 }, async () => {
  for (const v of ['gpt-2', 'llama-bpe', 'qwen2', 'falcon', 'deepseek-coder']) {
    const tok = loadTokenizer(data('tokenizers', `${v}-vocab.gguf`));
    const model = new DeepSeekLM(validateConfig({
      vocab_size: Math.ceil(tok.vocabSize / 32) * 32, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, tie_word_embeddings: true,
    }), { seed: 1 });
    const path = join(dir, `vocab-${v}.gguf`);
    exportGguf(model, path, { type: 'q8_0', tokenizer: tok });
    const lm = await (peer as Exclude<typeof peer, { error: string }>).llama.loadModel({ modelPath: path, vocabOnly: true });
    try {
      const cases = readFileSync(data('tokenizers', `${v}-vocab.gguf.inp`), 'utf8').split('\n__ggml_vocab_test__\n');
      for (const s of cases) assert.deepEqual(Array.from(lm.tokenize(s, false) as number[]), Array.from(tok.encode(s)), `${v}: ${JSON.stringify(s)}`);
    } finally {
      await lm.dispose();
    }
  }
});
