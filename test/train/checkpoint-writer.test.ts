// Background checkpoint writes: the checkpoint holds the state at save() time even though training
// changes the tensors while it is written; a failed write is reported; a run stopped by a NaN loss
// leaves its last good checkpoint complete on disk before train() throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backends/select.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';
import { AdamW } from '../../src/optim/adamw.js';
import { checkpointFiles, latestCheckpoint, readTrainerState, restoreCheckpoint } from '../../src/train/checkpoint.js';
import { CheckpointWriter, CheckpointWriteError } from '../../src/train/checkpoint-writer.js';
import { train, TrainError } from '../../src/train/trainer.js';
import { Rng } from '../util.js';

await selectBackend('native');

const cfg = validateConfig({
  vocab_size: 257, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, max_position_embeddings: 32,
});
const root = mkdtempSync(join(tmpdir(), 'dsllm-ckpt-writer-'));

function fillRandom(model: DeepSeekLM, opt: AdamW, seed: number): void {
  const rng = new Rng(seed);
  for (const [, p] of model.namedParameters()) for (let i = 0; i < p.numel; i++) p.f32[i] = rng.normal();
  for (const s of opt.state()) for (let i = 0; i < s.m.numel; i++) { s.m.f32[i] = rng.normal(); s.v.f32[i] = Math.abs(rng.normal()); }
}

const copyOf = (model: DeepSeekLM, opt: AdamW) => [...model.namedParameters().map(([, p]) => Float32Array.from(p.f32)),
  ...opt.state().flatMap((s) => [Float32Array.from(s.m.f32), Float32Array.from(s.v.f32)])];

test('a background save holds the state at save() time, bit for bit, while the tensors change', () => {
  const model = new DeepSeekLM(cfg, { seed: 1 });
  const opt = new AdamW(model.namedParameters());
  const writer = new CheckpointWriter(true);
  const out = join(root, 'snap');
  const want: Float32Array[][] = [];
  for (let step = 1; step <= 3; step++) {
    fillRandom(model, opt, step);
    opt.step = step;
    want.push(copyOf(model, opt));
    const st = { step, tokens: step * 10, data: [step, 2, 3, 4], run: { seed: 7 }, time_s: step };
    const dir = writer.save(out, step, checkpointFiles(model, opt, st), 5, false);
    assert.ok(writer.background, 'the writer thread started');
    assert.match(dir, /step-0000000\d$/);
    fillRandom(model, opt, 100 + step); // training goes on while the write is in flight
  }
  writer.close();
  const dirs = readdirSync(join(out, 'checkpoints'));
  assert.deepEqual(dirs, ['step-00000001', 'step-00000002', 'step-00000003'], 'no temp directory left behind');
  for (let step = 1; step <= 3; step++) {
    const ck = join(out, 'checkpoints', `step-0000000${step}`);
    const m2 = new DeepSeekLM(cfg, { seed: 9 }), o2 = new AdamW(m2.namedParameters());
    const st = restoreCheckpoint(ck, m2, o2);
    assert.equal(st.tokens, step * 10);
    assert.deepEqual(st.data, [step, 2, 3, 4]);
    assert.equal(o2.step, step);
    const got = copyOf(m2, o2);
    got.forEach((g, i) => assert.ok(Buffer.from(g.buffer).equals(Buffer.from(want[step - 1][i].buffer)), `step ${step} tensor ${i} differs`));
    m2.dispose(); o2.dispose();
  }
  model.dispose(); opt.dispose();
});

test('a background write that fails is reported at the next save, naming the checkpoint', () => {
  const model = new DeepSeekLM(cfg, { seed: 1 });
  const opt = new AdamW(model.namedParameters());
  const writer = new CheckpointWriter(true);
  const blocked = join(root, 'blocked');
  writeFileSync(blocked, 'a file where the run directory should be');
  const st = { step: 4, tokens: 0, data: null, run: {}, time_s: 0 };
  writer.save(blocked, 4, checkpointFiles(model, opt, st), 3, false);
  assert.throws(() => writer.save(join(root, 'ok'), 5, checkpointFiles(model, opt, { ...st, step: 5 }), 3, false),
    (e: Error) => e instanceof CheckpointWriteError && /checkpoint step 4 under .*blocked failed: .*(ENOTDIR|EEXIST)/.test(e.message));
  writer.close();
  model.dispose(); opt.dispose();
});

test('a loss that becomes non-finite stops the run with its last good checkpoint complete on disk', () => {
  const corpus = join(root, 'text.txt');
  writeFileSync(corpus, 'the quick brown fox jumps over the lazy dog. '.repeat(400));
  const out = join(root, 'nan');
  assert.throws(() => train({
    config: cfg, data: [corpus], out, steps: 50, batch: 2, seqLen: 16, lr: 1e30, warmup: 1, checkpointEvery: 1, evalEvery: 1000, evalBatches: 1, quiet: true,
  }), (e: Error) => e instanceof TrainError && /non-finite/.test(e.message) && /last good state saved to .*step-\d{8}/.test(e.message));
  const last = latestCheckpoint(out);
  assert.ok(last && existsSync(join(last, 'trainer_state.json')) && existsSync(join(last, 'model.safetensors')));
  assert.ok(!readdirSync(join(out, 'checkpoints')).some((d) => d.startsWith('.tmp-')), 'no write left half-done');
  const m2 = new DeepSeekLM(cfg, { seed: 9 }), o2 = new AdamW(m2.namedParameters());
  const st = restoreCheckpoint(last!, m2, o2);
  assert.equal(st.step, readTrainerState(last!).step);
  for (const [name, p] of m2.namedParameters()) assert.ok(p.f32.every(Number.isFinite), `${name} is finite in the saved state`);
  m2.dispose(); o2.dispose();
});
