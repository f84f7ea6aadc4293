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
import { loadLlamaCpp, llamaCppGreedy } from '../../bench/llama-cpp.js';
import { SKIP as NO_DATA, data } from '../tokenizer/data.js';

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

function maxAbsDiff(a: Float64Array[], b: Float64Array[]): number {
  assert.equal(a.length, b.length, 'rows');
  let m = 0;
  for (let t = 0; t < a.length; t++) for (let v = 0; v < a[t].length; v++) m = Math.max(m, Math.abs(a[t][v] - b[t][v]));
  return m;
}

async function compare(path: string, model: DeepSeekLM, prompt: number[], maxNew: number) {
  const theirs = await llamaCppGreedy(path, prompt, maxNew);
  const ours = oursGreedy(model, prompt, maxNew);
  return { theirs, ours, diff: maxAbsDiff(ours.logprobs, theirs.logprobs) };
}

test('a dsllm-trained model (byte-level vocabulary) exported to GGUF f32: llama.cpp continues it identically', { skip: SKIP, timeout: 300_000 }, async () => {
  const text = join(dir, 'shakespeare.txt');
  writeFileSync(text, readFileSync(data('corpus', 'en', 'tinyshakespeare.txt'), 'utf8').slice(0, 200_000));
  const config = validateConfig({
    vocab_size: 320, hidden_size: 64, intermediate_size: 192, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 2, max_position_embeddings: 256, initializer_range: 0.02,
  });
  const run = train({ config, data: [text], out: join(dir, 'run'), steps: 60, batch: 8, seqLen: 64, lr: 3e-3, warmup: 5, evalEvery: 1000, quiet: true, seed: 7 });
  assert.ok(run.finalLoss < 4.0, `training made progress (loss ${run.finalLoss})`);
  const model = loadModel(run.checkpoint);
  const path = join(dir, 'trained-f32.gguf');
  exportGguf(model, path, { type: 'f32' });
  const prompt = Array.from(Buffer.from('ROMEO:\nWhat light through yonder'));
  const { theirs, ours, diff } = await compare(path, model, prompt, 80);
  assert.deepEqual(theirs.generated, ours.generated, 'greedy continuation of 80 tokens');
  assert.ok(diff <= 1e-3, `log-softmax max abs diff ${diff}`);
  console.log(`trained: 80 greedy tokens identical, max |Δ log p| = ${diff.toExponential(2)} over ${ours.logprobs.length} positions; text ${JSON.stringify(Buffer.from(ours.generated.filter((t) => t < 256)).toString('latin1'))}`);
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
  console.log(`gqa f32: 64 greedy tokens identical, max |Δ log p| = ${diff.toExponential(2)}`);
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

for (const type of ['q8_0', 'q4_0'] as const) {
  test(`the GQA model exported as ${type}: loads in llama.cpp and agrees with dsllm's dequantized model`, { skip: SKIP, timeout: 300_000 }, async () => {
    const model = await gqaSetup();
    const path = join(dir, `gqa-${type}.gguf`);
    exportGguf(model, path, { type, tokenizer: loadTokenizer(bpePath) });
    const deq = loadGgufModel(path);
    const prompt = [...PROMPT, 9, 99, 199, 299, 399, 499, 3, 33, 333, 44];
    const theirs = await llamaCppGreedy(path, prompt, 1);
    const V = gqa.vocab_size;
    const dLlama = maxAbsDiff(theirs.logprobs, logSoftmax(forwardLogits(deq, prompt), V));
    const dWeights = maxAbsDiff(logSoftmax(forwardLogits(model, prompt), V), logSoftmax(forwardLogits(deq, prompt), V));
    console.log(`${type}: max |Δ log p| llama.cpp vs dsllm dequantized ${dLlama.toExponential(2)}; dequantized vs unquantized ${dWeights.toExponential(2)}`);
    // llama.cpp also quantizes the activations to Q8_0 for these matmuls, so the match is close, not
    // exact: within 0.1, and much closer to the dequantized model than the unquantized one is
    assert.ok(dLlama <= 0.1, `log-softmax max abs diff ${dLlama}`);
    if (type === 'q4_0') assert.ok(dLlama < 0.25 * dWeights, `llama.cpp ${dLlama} vs weight quantization error ${dWeights}`);
  });
}
