// The inference model against the training model (DeepSeekLM, f32) recomputing every sequence from
// scratch: KV-cache prefill and decode, several sequences of different lengths in one step, truncate,
// GQA; plus capacity and bad-input errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backends/select.js';
import { kernels } from '../../src/core/runtime.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';
import { Tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { noGrad } from '../../src/core/autograd.js';
import { InferenceModel, MAX_STEP_ROWS } from '../../src/infer/model.js';
import { ContextOverflowError } from '../../src/infer/errors.js';
import { Rng } from '../util.js';
import { tinyGqa, fullLogits } from './helpers.js';

await selectBackend('native');

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const argmax = (x: Float32Array, off: number, n: number) => {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
  return best;
};

test('KV-cache prefill + 20 batched decode steps equal a full recompute (3 sequences, GQA)', () => {
  const ref = new DeepSeekLM(tinyGqa, { seed: 9 });
  const m = InferenceModel.fromModel(ref);
  const V = tinyGqa.vocab_size;
  const rng = new Rng(4);
  const hist = [7, 3, 12].map((n) => Array.from({ length: n }, () => rng.int(V)));
  const seqs = hist.map(() => m.newSequence());
  // prefill all three in one step; the second asks for every row's logits
  const out = m.step(hist.map((h, i) => ({ seq: seqs[i], tokens: Int32Array.from(h), allLogits: i === 1 })));
  assert.equal(out.length, (1 + 3 + 1) * V);
  const full1 = fullLogits(ref, hist[1]);
  assert.ok(maxDiff(out.subarray(V, 4 * V), full1) < 1e-4, 'all-logits rows of sequence 1');
  const rows = [0, 3, 4];
  for (let i = 0; i < 3; i++) {
    const f = fullLogits(ref, hist[i]);
    assert.ok(maxDiff(out.subarray(rows[i] * V, (rows[i] + 1) * V), f.subarray((hist[i].length - 1) * V)) < 1e-4, `prefill, sequence ${i}`);
  }
  let last = [0, 3, 4].map((r) => argmax(out, r * V, V));
  for (let step = 0; step < 20; step++) {
    // every other step, sequence 2 sits out (sequences join and leave batches)
    const active = step % 2 ? [0, 1] : [0, 1, 2];
    for (const i of active) hist[i].push(last[i]);
    const lg = m.step(active.map((i) => ({ seq: seqs[i], tokens: Int32Array.of(last[i]) })));
    active.forEach((i, r) => {
      const f = fullLogits(ref, hist[i]);
      const d = maxDiff(lg.subarray(r * V, (r + 1) * V), f.subarray((hist[i].length - 1) * V));
      assert.ok(d < 1e-4, `decode step ${step}, sequence ${i}: max |diff| ${d}`);
      last[i] = argmax(lg, r * V, V);
      assert.equal(seqs[i].length, hist[i].length);
    });
  }
  // truncate sequence 0 back to 5 tokens and continue with 3 new ones
  m.truncate(seqs[0], 5);
  const cont = [hist[0][0], hist[0][1], hist[0][2], hist[0][3], hist[0][4], 1, 2, 3];
  const lg = m.step([{ seq: seqs[0], tokens: Int32Array.of(1, 2, 3), allLogits: true }]);
  assert.ok(maxDiff(lg, fullLogits(ref, cont).subarray(5 * V)) < 1e-4, 'after truncate');
  m.dispose();
});

test('f32 decode: a sequence\'s logits are the same bits alone as batched with others (scattered among prefill rows)', () => {
  const ref = new DeepSeekLM(tinyGqa, { seed: 3 });
  const V = tinyGqa.vocab_size, rng = new Rng(11);
  const prompts = [5, 9, 2, 14].map((n) => Array.from({ length: n }, () => rng.int(V)));
  const nexts = Array.from({ length: 6 }, () => prompts.map(() => rng.int(V)));
  // alone: each sequence in its own model, one token per step
  const alone = prompts.map((p, i) => {
    const m = InferenceModel.fromModel(ref), s = m.newSequence();
    m.step([{ seq: s, tokens: Int32Array.from(p) }]);
    const rows = nexts.map((nx) => m.step([{ seq: s, tokens: Int32Array.of(nx[i]) }]));
    m.dispose();
    return rows;
  });
  // together: all four decode in every step, next to a fifth sequence prefilling 3 tokens a step
  const m = InferenceModel.fromModel(ref);
  const seqs = prompts.map(() => m.newSequence()), extra = m.newSequence();
  prompts.forEach((p, i) => m.step([{ seq: seqs[i], tokens: Int32Array.from(p) }]));
  nexts.forEach((nx, t) => {
    const ins = seqs.map((s, i) => ({ seq: s, tokens: Int32Array.of(nx[i]) }));
    ins.splice(2, 0, { seq: extra, tokens: Int32Array.of(1, 2, 3) });
    const lg = m.step(ins);
    [0, 1, 3, 4].forEach((row, i) => assert.deepEqual(lg.subarray(row * V, (row + 1) * V), alone[i][t], `step ${t}, sequence ${i}`));
  });
  m.dispose();
});

test('the cache grows past its first allocation and refuses tokens beyond its capacity', () => {
  const ref = new DeepSeekLM(tinyGqa, { seed: 2 });
  const m = InferenceModel.fromModel(ref);
  const V = tinyGqa.vocab_size;
  const ids = Array.from({ length: 64 }, (_, i) => (i * 7) % V);
  const s = m.newSequence();
  assert.equal(s.capacity, 64);
  m.step([{ seq: s, tokens: Int32Array.from(ids.slice(0, 40)) }]);
  const lg = m.step([{ seq: s, tokens: Int32Array.from(ids.slice(40, 64)) }]);
  assert.ok(maxDiff(lg, fullLogits(ref, ids).subarray(63 * V)) < 1e-4);
  assert.throws(() => m.step([{ seq: s, tokens: Int32Array.of(1) }]), (e: Error) => e instanceof ContextOverflowError && /64 cached \+ 1 new tokens exceed its capacity of 64/.test(e.message));
  const small = m.newSequence(4);
  assert.throws(() => m.step([{ seq: small, tokens: Int32Array.of(1, 2, 3, 4, 5) }]), /0 cached \+ 5 new tokens exceed its capacity of 4/);
  assert.throws(() => m.newSequence(65), /capacity must be an integer in \[1, 64\]/);
  assert.throws(() => m.step([{ seq: small, tokens: Int32Array.of(V) }]), /token 0 = 61 is outside the vocabulary \[0, 61\)/);
  assert.throws(() => m.step([{ seq: small, tokens: Int32Array.of(1) }, { seq: small, tokens: Int32Array.of(2) }]), /appears twice/);
  m.freeSequence(small);
  assert.throws(() => m.step([{ seq: small, tokens: Int32Array.of(1) }]), /was freed/);
  m.dispose();
});

test('quantized and bf16 weights stay close to f32 logits', () => {
  const ref = new DeepSeekLM(tinyGqa, { seed: 5 });
  const V = tinyGqa.vocab_size;
  const ids = Int32Array.from({ length: 20 }, (_, i) => (i * 13 + 5) % V);
  const run = (weights?: 'bf16' | 'f16' | 'q8_0' | 'q4_0') => {
    const m = InferenceModel.fromModel(ref, { weights });
    const s = m.newSequence();
    const a = m.step([{ seq: s, tokens: ids.subarray(0, 17), allLogits: true }]);  // gemm mode (17 rows)
    const b = m.step([{ seq: s, tokens: ids.subarray(17, 18) }]);                     // dot mode
    m.dispose();
    return { a, b };
  };
  const f = run();
  const full = fullLogits(ref, Array.from(ids.subarray(0, 18)));
  assert.ok(maxDiff(f.a, full.subarray(0, 17 * V)) < 1e-4);
  let scale = 0;
  for (const v of full) scale = Math.max(scale, Math.abs(v));
  for (const [w, tol] of [['bf16', 0.03], ['f16', 0.005], ['q8_0', 0.05], ['q4_0', 0.6]] as const) {
    const q = run(w);
    const da = maxDiff(q.a, f.a) / scale, db = maxDiff(q.b, f.b) / scale;
    assert.ok(da < tol && db < tol, `${w}: relative max diff prefill ${da}, decode ${db} (tolerance ${tol})`);
  }
});

test('a q4_0 model computes what an f32 model holding its dequantized weights computes', () => {
  const ref = new DeepSeekLM(tinyGqa, { seed: 6 });
  const V = tinyGqa.vocab_size;
  // the f32 twin: every matrix replaced by dequantize(quantize(w))
  const twin = new DeepSeekLM(tinyGqa, { seed: 6 });
  for (const [, p] of twin.namedParameters()) {
    if (p.shape.length !== 2) continue;
    const q = new Uint8Array((p.numel / 32) * 18);
    kernels().quantize(q, p.f32, 'q4_0', p.numel);
    kernels().dequantize(p.f32, q, 'q4_0', p.numel);
  }
  const ids = Array.from({ length: 12 }, (_, i) => (i * 11 + 3) % V);
  const m = InferenceModel.fromModel(ref, { weights: 'q4_0' });
  const s = m.newSequence();
  const a = m.step([{ seq: s, tokens: Int32Array.from(ids.slice(0, 11)), allLogits: true }]);
  const b = m.step([{ seq: s, tokens: Int32Array.from(ids.slice(11)) }]);
  const full = fullLogits(twin, ids);
  let scale = 0;
  for (const v of full) scale = Math.max(scale, Math.abs(v));
  // what is left is the rounding of activations (bf16 in gemm mode, q8_0 blocks in dot mode)
  const da = maxDiff(a, full.subarray(0, 11 * V)) / scale, db = maxDiff(b, full.subarray(11 * V)) / scale;
  assert.ok(da < 0.02 && db < 0.03, `prefill ${da}, decode ${db}`);
  m.dispose();
});

test('a step over MAX_STEP_ROWS runs in chunks with the same logits', () => {
  const cfg = validateConfig({ ...tinyGqa, max_position_embeddings: 1200 });
  const ref = new DeepSeekLM(cfg, { seed: 8 });
  const m = InferenceModel.fromModel(ref);
  const V = cfg.vocab_size;
  assert.ok(1100 > MAX_STEP_ROWS * 2);
  const long = Array.from({ length: 1100 }, (_, i) => (i * 31 + 7) % V), short = [4, 5, 6];
  const a = m.newSequence(), b = m.newSequence();
  const lg = m.step([{ seq: b, tokens: Int32Array.from(short) }, { seq: a, tokens: Int32Array.from(long), allLogits: true }]);
  assert.equal(lg.length, (1 + 1100) * V);
  assert.ok(maxDiff(lg.subarray(0, V), fullLogits(ref, short).subarray(2 * V)) < 1e-4);
  assert.ok(maxDiff(lg.subarray(V), fullLogits(ref, long)) < 1e-4);
  assert.equal(a.length, 1100);
  const next = m.step([{ seq: a, tokens: Int32Array.of(9) }]);
  assert.ok(maxDiff(next, fullLogits(ref, [...long, 9]).subarray(1100 * V)) < 1e-4);
});

test('a new sequence reusing a freed one\'s KV buffers sees none of its values', () => {
  const ref = new DeepSeekLM(tinyGqa, { seed: 12 });
  const m = InferenceModel.fromModel(ref);
  const V = tinyGqa.vocab_size;
  const a = m.newSequence();
  m.step([{ seq: a, tokens: Int32Array.from({ length: 40 }, (_, i) => (i * 5 + 1) % V) }]);
  m.freeSequence(a);
  const b = m.newSequence();  // takes a's buffers (same size), full of a's keys and values
  const ids = [3, 14, 15, 9, 2];
  const lg = m.step([{ seq: b, tokens: Int32Array.from(ids), allLogits: true }]);
  assert.ok(maxDiff(lg, fullLogits(ref, ids)) < 1e-4);
  const next = m.step([{ seq: b, tokens: Int32Array.of(6) }]);
  assert.ok(maxDiff(next, fullLogits(ref, [...ids, 6]).subarray(5 * V)) < 1e-4);
});
