// HF directories into the inference model: save → load gives bitwise the in-memory model's logits
// (single file, sharded, bf16), tie_word_embeddings without lm_head.weight loads as transformers
// does, and every broken directory is a clear error naming the file and what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, unlinkSync, truncateSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backends/select.js';
import { kernels } from '../../src/core/runtime.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';
import { saveModel } from '../../src/io/hf-dir.js';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { InferenceModel } from '../../src/infer/model.js';
import { ModelLoadError } from '../../src/infer/errors.js';
import { tinyGqa } from './helpers.js';

await selectBackend('native');

const tmp = mkdtempSync(join(tmpdir(), 'dsllm-hf-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function logitsOf(m: InferenceModel, prompt: number[], extra: number[]): Float32Array[] {
  const s = m.newSequence();
  const out = [m.step([{ seq: s, tokens: Int32Array.from(prompt), allLogits: true }])];
  for (const t of extra) out.push(m.step([{ seq: s, tokens: Int32Array.of(t) }]));
  return out;
}

const bitsEqual = (a: Float32Array[], b: Float32Array[]) =>
  a.length === b.length && a.every((x, i) => Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)) === 0);

test('HF save → load: bitwise-identical logits (single file and sharded)', () => {
  const model = new DeepSeekLM(tinyGqa, { seed: 21 });
  const want = logitsOf(InferenceModel.fromModel(model), [1, 5, 9, 2, 33], [4, 8, 15]);
  for (const [name, opts] of [['single', {}], ['sharded', { maxShardBytes: 60_000 }]] as const) {
    const dir = join(tmp, name);
    saveModel(model, dir, opts);
    if (name === 'sharded') assert.ok(readdirSync(dir).filter((f) => f.endsWith('.safetensors')).length > 2);
    const got = logitsOf(InferenceModel.fromHFDir(dir), [1, 5, 9, 2, 33], [4, 8, 15]);
    assert.ok(bitsEqual(got, want), `${name}: logits differ`);
  }
});

test('HF bf16 directory keeps bf16 weights and equals the in-memory model converted to bf16', () => {
  const model = new DeepSeekLM(tinyGqa, { seed: 22 });
  const dir = join(tmp, 'bf16');
  saveModel(model, dir, { dtype: 'bf16' });
  const m = InferenceModel.fromHFDir(dir);
  assert.deepEqual(m.formats(), { embed: 'bf16', layers: 'bf16', head: 'bf16' });
  const want = logitsOf(InferenceModel.fromModel(model, { weights: 'bf16' }), [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], [5, 8]);
  assert.ok(bitsEqual(logitsOf(m, [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], [5, 8]), want));
});

test('tie_word_embeddings: a checkpoint without lm_head.weight uses the embedding as the head', () => {
  const cfg = validateConfig({ ...tinyGqa, tie_word_embeddings: true });
  const model = new DeepSeekLM(cfg, { seed: 23 });
  assert.ok(![...model.namedParameters()].some(([n]) => n === 'lm_head.weight'));
  const dir = join(tmp, 'tied');
  saveModel(model, dir);
  const m = InferenceModel.fromHFDir(dir);
  const got = logitsOf(m, [7, 7, 1], [2]);
  assert.ok(bitsEqual(got, logitsOf(InferenceModel.fromModel(model), [7, 7, 1], [2])));
  // the same directory claiming untied weights is missing its head
  const cfgPath = join(dir, 'config.json');
  const raw = JSON.parse(readFileSync(cfgPath, 'utf8'));
  writeFileSync(cfgPath, JSON.stringify({ ...raw, tie_word_embeddings: false }));
  assert.throws(() => InferenceModel.fromHFDir(dir), /missing weight "lm_head.weight" \(shape \[61,64\]\) and tie_word_embeddings is false/);
});

test('bad directories: clear errors naming the file and the expectation', () => {
  const model = new DeepSeekLM(tinyGqa, { seed: 24 });
  const fresh = (name: string, opts = {}) => { const d = join(tmp, name); saveModel(model, d, opts); return d; };
  const expectErr = (dir: string, re: RegExp) => assert.throws(() => InferenceModel.fromHFDir(dir), (e: Error) => {
    assert.ok(e instanceof ModelLoadError || e.name === 'SafetensorsError', `${e.name}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
  // a missing shard
  let d = fresh('missing-shard', { maxShardBytes: 60_000 });
  const shards = readdirSync(d).filter((f) => f.endsWith('.safetensors')).sort();
  unlinkSync(join(d, shards[1]));
  expectErr(d, new RegExp(`shard "${shards[1]}" \\(holding "[^"]+"\\) is missing`));
  // a truncated shard
  d = fresh('truncated', { maxShardBytes: 60_000 });
  const f = join(d, shards[0]);
  truncateSync(f, statSync(f).size - 100);
  expectErr(d, /run past the data section/);
  // a config that does not match the weights
  d = fresh('mismatch');
  const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 128 }));
  expectErr(d, /"model.layers.0.mlp.gate_proj.weight" has shape \[96,64\], the config .* needs \[128,64\]/);
  // an unsupported architecture, with the supported list
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' }));
  expectErr(d, /architecture GPT2LMHeadModel is not supported; supported: LlamaForCausalLM/);
  writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, rope_scaling: { type: 'linear', factor: 2 } }));
  expectErr(d, /rope_scaling .* is not supported/);
  // a missing weight and a wrong dtype
  d = join(tmp, 'partial');
  saveModel(model, d);
  const params = [...model.namedParameters()].filter(([n]) => n !== 'model.norm.weight');
  writeSafetensors(join(d, 'model.safetensors'), params.map(([name, p]) => ({ name, dtype: 'f32' as const, shape: p.shape, bytes: new Uint8Array(p.f32.buffer, p.f32.byteOffset, p.f32.byteLength) })));
  expectErr(d, /missing weight "model.norm.weight" \(shape \[64\]\)/);
  writeSafetensors(join(d, 'model.safetensors'), [...model.namedParameters()].map(([name, p]) => ({ name, dtype: name === 'model.norm.weight' ? 'i32' as const : 'f32' as const, shape: p.shape, bytes: new Uint8Array(p.f32.buffer, p.f32.byteOffset, p.f32.byteLength) })));
  expectErr(d, /"model.norm.weight" is I32; weights must be F32, BF16 or F16/);
  // no config / not a directory
  expectErr(join(tmp, 'nowhere'), /not a model directory/);
  unlinkSync(join(d, 'config.json'));
  expectErr(d, /no config.json/);
  void kernels;
});

test('the real vocabulary size comes from tokenizer.json (padding rows of the head excluded)', () => {
  const model = new DeepSeekLM(tinyGqa, { seed: 25 });
  const dir = join(tmp, 'with-tokenizer');
  saveModel(model, dir);
  assert.equal(InferenceModel.fromHFDir(dir).vocabSize, 61, 'no tokenizer: every row');
  const vocab = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, i]));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab }, added_tokens: [{ id: 55, content: '<eos>' }] }));
  const m = InferenceModel.fromHFDir(dir);
  assert.equal(m.vocabSize, 56);
  assert.equal(m.config.vocab_size, 61);
  assert.equal(InferenceModel.fromHFDir(dir, { vocabSize: 40 }).vocabSize, 40);
});

test('an f16 HF directory runs on f16 weights (decode and prefill paths) close to f32', () => {
  const model = new DeepSeekLM(tinyGqa, { seed: 26 });
  const dir = join(tmp, 'f16');
  saveModel(model, dir);
  const tensors = [...model.namedParameters()].map(([name, p]) => {
    const h = new Uint16Array(p.numel);
    kernels().f32ToF16(h, p.f32, p.numel);
    return { name, dtype: 'f16' as const, shape: p.shape, bytes: new Uint8Array(h.buffer) };
  });
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  const m = InferenceModel.fromHFDir(dir);
  assert.deepEqual(m.formats(), { embed: 'f16', layers: 'f16', head: 'f16' });
  const prompt = Array.from({ length: 9 }, (_, i) => (i * 17 + 2) % 61);
  const got = logitsOf(m, prompt, [7, 8]), want = logitsOf(InferenceModel.fromModel(model), prompt, [7, 8]);
  for (let i = 0; i < got.length; i++) {
    let md = 0, mx = 0;
    for (let j = 0; j < got[i].length; j++) { md = Math.max(md, Math.abs(got[i][j] - want[i][j])); mx = Math.max(mx, Math.abs(want[i][j])); }
    assert.ok(md / mx < 2e-3, `step ${i}: relative max diff ${md / mx}`);
  }
});
