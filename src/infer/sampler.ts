// Choosing the next token from one row of logits. The order is Hugging Face's (and vLLM's):
//   penalties (repetition, frequency, presence) → greedy? argmax : temperature → top-k → top-p → min-p
//   → draw from what is left, renormalized, with the request's own seeded Rng.
// Only ids < vocabSize are ever considered: the LM head's padding rows (DeepSeek LLM: 100,015–102,399,
// FACTS §2.1) hold arbitrary values and must never be sampled or reported.
// Which tokens each penalty looks at (as vLLM): repetition (CTRL, Keskar et al. 2019) covers the prompt
// and the generated tokens, as HF's RepetitionPenaltyLogitsProcessor does; frequency and presence
// (OpenAI) count generated tokens only, as OpenAI describes them ("the text so far" of the completion).
// Ties go to the lowest id, so greedy decoding is a pure function of the logits.
import { Rng } from '../util/rng.js';
import type { SamplingOptions } from './types.js';
import { InferenceError } from './generate-errors.js';

export interface ResolvedSampling {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
  frequencyPenalty: number;
  presencePenalty: number;
  seed: number | undefined;
}

/** Checks and fills defaults (temperature 1, no truncation, no penalties); throws InferenceError. */
export function resolveSampling(o: SamplingOptions = {}): ResolvedSampling {
  const num = (name: string, v: number | undefined, dflt: number, ok: (x: number) => boolean, range: string): number => {
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new InferenceError(`sampling: ${name} ${v} must be ${range}`);
    return v;
  };
  const seed = o.seed;
  if (seed !== undefined && seed !== null && !(Number.isSafeInteger(seed))) throw new InferenceError(`sampling: seed ${seed} must be an integer`);
  return {
    temperature: num('temperature', o.temperature, 1, (x) => x >= 0, '≥ 0 (0 = greedy)'),
    topK: num('topK', o.topK, 0, (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0 (0 = off)'),
    topP: num('topP', o.topP, 1, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    minP: num('minP', o.minP, 0, (x) => x >= 0 && x <= 1, 'in [0, 1]'),
    repetitionPenalty: num('repetitionPenalty', o.repetitionPenalty, 1, (x) => x > 0, '> 0 (1 = off)'),
    frequencyPenalty: num('frequencyPenalty', o.frequencyPenalty, 0, () => true, 'finite'),
    presencePenalty: num('presencePenalty', o.presencePenalty, 0, () => true, 'finite'),
    seed: seed ?? undefined,
  };
}

/** Indices of the n largest values of v[0..len) (ties: lower index first), largest first. */
export function topIndices(v: ArrayLike<number>, len: number, n: number): number[] {
  n = Math.min(n, len);
  if (n <= 0) return [];
  // min-heap of the best n so far; "worse" = smaller value, or equal value and larger index
  const heap = new Int32Array(n);
  let size = 0;
  const worse = (a: number, b: number) => v[a] < v[b] || (v[a] === v[b] && a > b);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < size && worse(heap[l], heap[m])) m = l;
      if (r < size && worse(heap[r], heap[m])) m = r;
      if (m === i) return;
      const t = heap[i]; heap[i] = heap[m]; heap[m] = t; i = m;
    }
  };
  for (let i = 0; i < len; i++) {
    if (Number.isNaN(v[i])) continue;
    if (size < n) {
      let j = size++;
      heap[j] = i;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (!worse(heap[j], heap[p])) break;
        const t = heap[j]; heap[j] = heap[p]; heap[p] = t; j = p;
      }
    } else if (worse(heap[0], i)) {
      heap[0] = i;
      down(0);
    }
  }
  const out = Array.from(heap.subarray(0, size));
  return out.sort((a, b) => (v[b] - v[a]) || (a - b));
}

/** argmax over v[0..len), lowest index on ties */
export function argmax(v: ArrayLike<number>, len: number): number {
  let best = 0;
  for (let i = 1; i < len; i++) if (v[i] > v[best]) best = i;
  return best;
}

/**
 * The distribution a sampler draws from, for a row of (already penalized) logits: weights
 * exp((x − max)/T) for the ids kept by top-k, top-p and min-p, 0 for the others (unnormalized).
 */
export function truncatedWeights(x: ArrayLike<number>, len: number, s: ResolvedSampling): Float64Array {
  const T = s.temperature;
  let mx = -Infinity;
  for (let i = 0; i < len; i++) if (x[i] > mx) mx = x[i];
  let p = new Float64Array(len);
  let total = 0;
  for (let i = 0; i < len; i++) { p[i] = Math.exp((x[i] - mx) / T); total += p[i]; }
  if (s.topK > 0 && s.topK < len) {
    // candidates, largest first: top-p cuts a prefix of them
    let ids = topIndices(p, len, s.topK);
    if (s.topP < 1) {
      let mass = 0;
      for (const i of ids) mass += p[i];
      let cum = 0, keep = 0;
      while (keep < ids.length) { cum += p[ids[keep++]]; if (cum >= s.topP * mass) break; }
      ids = ids.slice(0, keep);
    }
    const kept = new Float64Array(len);
    for (const i of ids) kept[i] = p[i];
    p = kept;
  } else if (s.topP < 1) {
    keepTopP(p, len, s.topP, total);
  }
  // min-p: relative to the most likely token, whose weight is exp(0) = 1
  if (s.minP > 0) for (let i = 0; i < len; i++) if (p[i] < s.minP) p[i] = 0;
  return p;
}

/**
 * Top-p on weights p[0..len) (in place; total = their sum): keeps the head of the distribution, largest
 * first (ties: lower id first), up to and including the weight that brings the head's mass to
 * topP · total, as HF's TopPLogitsWarper; zeroes the rest. Candidates are the weights above a threshold
 * lowered until they hold that much (so only the head is sorted; the mass below the threshold still
 * counts in the total, where it once was left out: a 3,000-token flat distribution kept 1,275 tokens
 * at top-p 0.9 instead of the reference's 1,560). Only their values are sorted, natively (sorting ids with
 * a comparator took 50 ms per token on a flat 102,400-token distribution): the cut value and how many
 * of its ties stay (the lowest ids) give the same set as walking ids sorted by (weight desc, id asc).
 */
function keepTopP(p: Float64Array, len: number, topP: number, total: number): void {
  const need = topP * total;
  let eps = 1e-2, n = 0;
  for (; ; eps *= 1e-3) {
    let mass = 0;
    n = 0;
    for (let i = 0; i < len; i++) if (p[i] >= eps) { mass += p[i]; n++; }
    if (mass >= need || eps < 1e-300) break;
  }
  const vals = new Float64Array(n);
  for (let i = 0, j = 0; i < len; i++) if (p[i] >= eps) vals[j++] = p[i];
  vals.sort();  // ascending: the head is walked from the end
  let cum = 0, keep = 0;
  while (keep < n) { cum += vals[n - 1 - keep++]; if (cum >= need) break; }
  const t = vals[n - keep];  // the smallest kept weight
  let ties = keep;           // how many weights equal to t stay (the lowest ids)
  for (let j = n - 1; j >= 0 && vals[j] > t; j--) ties--;
  for (let i = 0; i < len; i++) {
    if (p[i] > t) continue;
    if (p[i] === t && ties > 0) { ties--; continue; }
    p[i] = 0;
  }
}

export interface TokenLogprobs {
  logprob: number;
  top: { id: number; logprob: number }[];
}

/**
 * Log-probabilities as the model gives them: log-softmax of the raw logits over the real vocabulary
 * (before penalties, temperature and truncation), as OpenAI reports them. The processed distribution
 * would be degenerate under greedy decoding (0 and −∞) and would depend on the sampling knobs.
 */
export function logprobsOf(row: ArrayLike<number>, vocabSize: number, id: number, topN: number): TokenLogprobs {
  let mx = -Infinity;
  for (let i = 0; i < vocabSize; i++) if (row[i] > mx) mx = row[i];
  let sum = 0;
  for (let i = 0; i < vocabSize; i++) sum += Math.exp(row[i] - mx);
  const lse = mx + Math.log(sum);
  const top = topIndices(row, vocabSize, topN).map((i) => ({ id: i, logprob: row[i] - lse }));
  return { logprob: row[id] - lse, top };
}

/** One request's sampler: its options, its Rng, and the token counts its penalties need. */
export class Sampler {
  readonly opts: ResolvedSampling;
  private rng: Rng;
  /** generated tokens by id (frequency/presence) */
  private counts = new Map<number, number>();
  /** prompt and generated ids (repetition) */
  private seen = new Set<number>();

  constructor(opts: SamplingOptions | ResolvedSampling, readonly vocabSize: number, prompt: ArrayLike<number> = [], defaultSeed = 0) {
    this.opts = resolveSampling(opts);
    this.rng = new Rng(this.opts.seed ?? defaultSeed);
    if (this.opts.repetitionPenalty !== 1) for (let i = 0; i < prompt.length; i++) this.seen.add(prompt[i]);
  }

  get greedy(): boolean { return this.opts.temperature === 0 || this.opts.topK === 1; }

  /** the real-vocabulary part of a row with the penalties applied (a copy) */
  penalized(row: Float32Array): Float32Array {
    const x = row.slice(0, this.vocabSize);
    const r = this.opts.repetitionPenalty;
    if (r !== 1) for (const id of this.seen) if (id < this.vocabSize) x[id] = x[id] > 0 ? x[id] / r : x[id] * r;
    const f = this.opts.frequencyPenalty, pr = this.opts.presencePenalty;
    if (f !== 0 || pr !== 0) for (const [id, n] of this.counts) if (id < this.vocabSize) x[id] -= f * n + pr;
    return x;
  }

  /** the next id for this row (row.length ≥ vocabSize; entries from vocabSize on are padding) */
  sample(row: Float32Array): number {
    if (row.length < this.vocabSize) throw new InferenceError(`sampler: a row of ${row.length} logits is shorter than the vocabulary (${this.vocabSize})`);
    const o = this.opts;
    const plain = o.repetitionPenalty === 1 && o.frequencyPenalty === 0 && o.presencePenalty === 0;
    if (this.greedy && plain) return argmax(row, this.vocabSize); // no copy on the common greedy path
    const x = plain ? row.subarray(0, this.vocabSize) : this.penalized(row);
    if (this.greedy) return argmax(x, this.vocabSize);
    const w = truncatedWeights(x, this.vocabSize, this.opts);
    let mass = 0, last = -1;
    for (let i = 0; i < w.length; i++) if (w[i] > 0) { mass += w[i]; last = i; }
    if (!(mass > 0)) return argmax(x, this.vocabSize); // all logits −∞/NaN: fall back to greedy
    let u = this.rng.uniform() * mass;
    for (let i = 0; i < last; i++) { u -= w[i]; if (u < 0 && w[i] > 0) return i; }
    return last;
  }

  /** records a generated token (penalties see it from the next step on) */
  accept(id: number): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    if (this.opts.repetitionPenalty !== 1) this.seen.add(id);
  }
}
