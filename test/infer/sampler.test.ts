// The sampler against straightforward references: softmax over a sorted list for the top-k/top-p/
// min-p masks, frequencies of first draws over many seeds for the distribution, hand-computed penalties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sampler, resolveSampling, truncatedWeights, logprobsOf, topIndices, type ResolvedSampling } from '../../src/infer/sampler.js';
import { InferenceError } from '../../src/infer/generate-errors.js';
import { Rng } from '../util.js';

const opts = (o: Partial<ResolvedSampling>): ResolvedSampling => resolveSampling(o);

/** the reference: softmax(x/T), sort by (p desc, id asc), then the three masks one after another */
function referenceKept(x: number[], T: number, topK: number, topP: number, minP: number): { ids: number[]; p: Map<number, number> } {
  const mx = Math.max(...x);
  const e = x.map((v) => Math.exp((v - mx) / T));
  const Z = e.reduce((a, b) => a + b, 0);
  let order = x.map((_, i) => i).sort((a, b) => (e[b] - e[a]) || (a - b));
  if (topK > 0) order = order.slice(0, topK);
  if (topP < 1) {
    const mass = order.reduce((s, i) => s + e[i], 0);
    const kept: number[] = [];
    let cum = 0;
    for (const i of order) { kept.push(i); cum += e[i] / mass; if (cum >= topP) break; }
    order = kept;
  }
  const pmax = e[order[0]] / Z;
  if (minP > 0) order = order.filter((i) => e[i] / Z >= minP * pmax);
  const mass = order.reduce((s, i) => s + e[i], 0);
  return { ids: order, p: new Map(order.map((i) => [i, e[i] / mass])) };
}

test('top-k, top-p and min-p masks equal the sorted-softmax reference exactly', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 200; trial++) {
    const V = 1 + rng.int(60);
    const x = Array.from({ length: V }, () => rng.normal() * (1 + rng.int(4)));
    if (trial % 7 === 0) x[rng.int(V)] = x[0]; // ties
    const T = [0.3, 0.7, 1, 1.8][rng.int(4)];
    const topK = [0, 1, 3, 10][rng.int(4)], topP = [1, 0.5, 0.9, 0.99][rng.int(4)], minP = [0, 0.05, 0.3][rng.int(3)];
    const got = truncatedWeights(Float32Array.from(x), V, opts({ temperature: T, topK, topP, minP }));
    const ref = referenceKept(Array.from(Float32Array.from(x)), T, topK, topP, minP);
    const gotIds = Array.from(got.keys()).filter((i) => got[i] > 0);
    assert.deepEqual(gotIds, [...ref.ids].sort((a, b) => a - b), `trial ${trial}: T=${T} k=${topK} p=${topP} min_p=${minP}`);
  }
});

test('top-p over a large, flat vocabulary with many ties equals the reference', () => {
  const rng = new Rng(21);
  for (const [V, topP] of [[3000, 0.9], [5000, 0.5], [4000, 0.999]] as const) {
    const x = Array.from({ length: V }, () => Math.round(rng.normal() * 4) / 4);  // few distinct values: ties at the cut
    const got = truncatedWeights(Float32Array.from(x), V, opts({ temperature: 0.8, topP }));
    const ref = referenceKept(x, 0.8, 0, topP, 0);
    assert.deepEqual(Array.from(got.keys()).filter((i) => got[i] > 0), [...ref.ids].sort((a, b) => a - b), `V=${V} topP=${topP}`);
  }
});

test('samples over many seeds follow the truncated, renormalized distribution', () => {
  const x = Float32Array.from([2.0, 1.5, 1.2, 0.3, -0.5, 0.9, -2, 1.4]);
  const cases: Partial<ResolvedSampling>[] = [
    { temperature: 1 }, { temperature: 0.6, topP: 0.8 }, { temperature: 1.3, minP: 0.3 }, { topK: 3 }, { temperature: 2, topK: 5, topP: 0.7 },
  ];
  const N = 20000;
  for (const c of cases) {
    const s = opts(c);
    const ref = referenceKept(Array.from(x), s.temperature, s.topK, s.topP, s.minP);
    const counts = new Array(x.length).fill(0);
    for (let seed = 0; seed < N; seed++) counts[new Sampler(s, x.length, [], seed).sample(x)]++;
    for (let i = 0; i < x.length; i++) {
      const p = ref.p.get(i) ?? 0;
      if (p === 0) assert.equal(counts[i], 0, `${JSON.stringify(c)}: id ${i} is masked but was drawn ${counts[i]} times`);
      // 5 standard deviations of a binomial frequency
      else assert.ok(Math.abs(counts[i] / N - p) <= 5 * Math.sqrt(p * (1 - p) / N) + 1e-9, `${JSON.stringify(c)}: id ${i} drawn ${counts[i] / N}, expected ${p}`);
    }
  }
});

test('padding rows (ids ≥ vocabSize) are never sampled, whatever their logits', () => {
  const row = new Float32Array(12);
  row.fill(1, 0, 8);
  row.fill(1e4, 8); // padding rows hold huge values
  assert.equal(new Sampler({ temperature: 0 }, 8).sample(row), 0);
  for (let seed = 0; seed < 500; seed++) assert.ok(new Sampler({ temperature: 5, seed }, 8).sample(row) < 8);
  const lp = logprobsOf(row, 8, 3, 4);
  assert.ok(Math.abs(lp.logprob - Math.log(1 / 8)) < 1e-6);
  assert.ok(lp.top.every((t) => t.id < 8));
});

test('greedy takes the argmax after penalties, the lowest id on ties', () => {
  assert.equal(new Sampler({ temperature: 0 }, 5).sample(Float32Array.from([1, 3, 3, 2, 0])), 1);
  assert.equal(new Sampler({ topK: 1, temperature: 1 }, 5).sample(Float32Array.from([1, 3, 3, 2, 0])), 1);
  // the repetition penalty on id 1 (seen in the prompt) hands the choice to id 2
  assert.equal(new Sampler({ temperature: 0, repetitionPenalty: 1.5 }, 5, [1]).sample(Float32Array.from([1, 3, 2.5, 2, 0])), 2);
});

test('repetition (CTRL, prompt + output), frequency and presence (output only) penalties, computed by hand', () => {
  const row = Float32Array.from([2, -1, 0.5, -3, 4, 1]);
  const s = new Sampler({ repetitionPenalty: 2, frequencyPenalty: 0.5, presencePenalty: 0.25 }, 6, [0, 1]);
  assert.deepEqual(Array.from(s.penalized(row)), [1, -2, 0.5, -3, 4, 1]);
  s.accept(4); s.accept(4); s.accept(3);
  // 0,1 from the prompt (repetition only); 4 twice and 3 once generated (all three penalties)
  const exp = [2 / 2, -1 * 2, 0.5, -3 * 2 - 0.5 - 0.25, 4 / 2 - 2 * 0.5 - 0.25, 1];
  assert.deepEqual(Array.from(s.penalized(row)), exp.map((v) => Math.fround(v)));
  // frequency/presence alone ignore the prompt
  const f = new Sampler({ frequencyPenalty: 1, presencePenalty: 1 }, 6, [0, 1]);
  assert.deepEqual(Array.from(f.penalized(row)), Array.from(row));
});

test('same seed ⇒ same tokens; another seed ⇒ other tokens', () => {
  const rng = new Rng(1);
  const rows = Array.from({ length: 40 }, () => rng.fillNormal(new Float32Array(50)));
  const run = (seed: number) => { const s = new Sampler({ temperature: 1, seed }, 50); return rows.map((r) => { const id = s.sample(r); s.accept(id); return id; }); };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
});

test('logprobs are the log-softmax of the raw logits; top alternatives sorted', () => {
  const row = Float32Array.from([0.5, 2, -1, 2, 0]);
  const Z = Array.from(row).reduce((s, v) => s + Math.exp(v), 0);
  const lp = logprobsOf(row, 5, 2, 3);
  assert.ok(Math.abs(lp.logprob - (-1 - Math.log(Z))) < 1e-9);
  assert.deepEqual(lp.top.map((t) => t.id), [1, 3, 0]);
  assert.ok(Math.abs(lp.top[0].logprob - (2 - Math.log(Z))) < 1e-9);
  assert.deepEqual(topIndices(Float32Array.from([3, 1, 4, 1, 5, 9, 2, 6]), 8, 3), [5, 7, 4]);
});

test('bad options are refused with a clear message', () => {
  assert.throws(() => resolveSampling({ temperature: -1 }), (e: Error) => e instanceof InferenceError && /temperature -1 must be ≥ 0/.test(e.message));
  assert.throws(() => resolveSampling({ topP: 0 }), /topP 0 must be in \(0, 1\]/);
  assert.throws(() => resolveSampling({ topK: 1.5 }), /topK 1.5 must be an integer/);
  assert.throws(() => resolveSampling({ minP: 2 }), /minP 2/);
  assert.throws(() => resolveSampling({ repetitionPenalty: 0 }), /repetitionPenalty 0/);
  assert.throws(() => resolveSampling({ seed: 1.5 }), /seed 1.5 must be an integer/);
  assert.throws(() => new Sampler({}, 10).sample(new Float32Array(5)), /shorter than the vocabulary/);
});
