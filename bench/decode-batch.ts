// `bench decode-batch`: the batched decode step of the inference model alone (no HTTP, no sampling):
// tokens/s of one step over 16 sequences against one step over 1, same model, same run. The model is
// the micro preset with random f32 weights; every sequence first holds a 48-token prompt, and each
// timed repetition decodes 16 more tokens per sequence (ascending contexts, as in serving). The ratio
// is what continuous batching can give the server at most (`bench serve` measures it end to end).
import { PRESETS } from '../src/nn/config.js';
import { selectBackend } from '../src/backends/select.js';
import { InferenceModel } from '../src/infer/model.js';
import { RandomWeightSource } from '../src/infer/random-source.js';
import { emit, median, spreadOf, type BenchOptions } from './common.js';

const PROMPT = 48, STEPS = 16;

/** seconds per step of decoding `batch` sequences together, one value per repetition */
function stepTimes(model: InferenceModel, batch: number, reps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r <= reps; r++) {  // repetition 0 warms up
    const seqs = Array.from({ length: batch }, () => model.newSequence());
    for (const s of seqs) model.step([{ seq: s, tokens: Int32Array.from({ length: PROMPT }, (_, i) => (i * 31 + s.id) % 256) }]);
    const t0 = process.hrtime.bigint();
    for (let t = 0; t < STEPS; t++) model.step(seqs.map((s) => ({ seq: s, tokens: Int32Array.of((t * 7 + s.id) % 256) })));
    if (r > 0) out.push(Number(process.hrtime.bigint() - t0) / 1e9 / STEPS);
    for (const s of seqs) model.freeSequence(s);
  }
  return out;
}

export async function run(opts: BenchOptions): Promise<void> {
  await selectBackend();
  const preset = 'micro', batch = 16;
  const reps = opts.quick ? 2 : Math.max(3, opts.reps);
  const model = InferenceModel.fromSource(new RandomWeightSource(PRESETS[preset], 1));
  const one: number[] = [], many: number[] = [];
  for (let r = 0; r < reps; r++) {  // alternated, so load on the machine hits both alike
    one.push(median(stepTimes(model, 1, 1)));
    many.push(median(stepTimes(model, batch, 1)));
  }
  const rate1 = median(one.map((s) => 1 / s)), rateN = median(many.map((s) => batch / s));
  emit({
    suite: 'decode-batch', case: `${preset} ${batch} sequences`, metric: 'decode tokens/s', unit: 'tok/s',
    ours: rateN, peer: '1 sequence', peer_value: rate1, ratio: rateN / rate1, reps, spread: spreadOf(many.map((s) => batch / s)),
    note: `model.step only (no sampling, no HTTP); step ${(median(many) * 1e3).toFixed(1)} ms for ${batch} vs ${(median(one) * 1e3).toFixed(1)} ms for 1; contexts ${PROMPT}..${PROMPT + STEPS}`,
  }, opts);
  model.dispose();
}
