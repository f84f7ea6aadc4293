// The pretraining loop as a library function (the CLI verb `dsllm train` is a thin wrapper):
// paper optimizer and schedule, gradient accumulation, validation loss and bits-per-byte,
// checkpoints every N minutes with exact resume, JSONL log, progress display, SVG curves.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { DeepSeekLM } from '../nn/deepseek.js';
import { countParams, flopsPerToken, loadConfig, validateConfig, type ModelConfig } from '../nn/config.js';
import { AdamW } from '../optim/adamw.js';
import { learningRate, type Schedule } from '../optim/schedule.js';
import { setComputeDType } from '../ops/precision.js';
import { noGrad } from '../core/autograd.js';
import { scope } from '../core/scope.js';
import { OpError } from '../core/errors.js';
import { trainStep } from './step.js';
import { byteLevelStreams, DataError, randomWindows, tokenizedStreams, validationSet, type TrainData, type ValidationSet } from './data.js';
import { isShardInput, shardData } from './shard-data.js';
import { loadTokenizer } from '../tokenizer/formats/load.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { checkpointFiles, latestCheckpoint, readTrainerState, restoreCheckpoint } from './checkpoint.js';
import { CheckpointWriter } from './checkpoint-writer.js';
import { snapshotSize } from '../io/dir-files.js';
import { etaOpt, batchTokensOpt } from '../scaling/laws.js';
import { Progress, fmtTime } from '../util/progress.js';
import { lineChart } from '../util/svg-plot.js';
import { writeFileAtomic } from '../io/atomic.js';
import { svgToPng } from '../util/png.js';

export interface TrainOptions {
  /** preset name, config.json path, or a config object */
  config: string | ModelConfig;
  /**
   * text files (one document each, EOS after each; 10% held out), or token shards of the data
   * pipeline (directories or .bin files; validation from val*.bin or the tail of the last shard)
   */
  data: string[];
  /** tokenizer file (tokenizer.json, GGUF, tiktoken) for text files, and for shards' bytes per token; default byte-level */
  tokenizer?: string;
  out: string;
  dtype?: 'f32' | 'bf16';
  seed?: number;
  /** sequences per micro-batch and their length */
  batch?: number;
  seqLen?: number;
  /** micro-batches per optimizer step */
  gradAccum?: number;
  /** total optimizer steps; or derive from a compute budget */
  steps?: number;
  /** compute budget C in FLOPs (= M·D): sets tokens, η_opt and B_opt by the paper's laws */
  compute?: number;
  lr?: number;
  warmup?: number;
  schedule?: 'multistep' | 'cosine';
  evalEvery?: number;
  evalBatches?: number;
  checkpointMinutes?: number;
  checkpointEvery?: number;
  keep?: number;
  /** write checkpoints on a background thread while training continues (default true); the final one is always complete on return */
  checkpointInBackground?: boolean;
  /** continue the run in `out` from its latest checkpoint (or from a given checkpoint directory) */
  resume?: boolean | string;
  /** override the model's vocab size (byte-level data needs ≥ 257) */
  vocabSize?: number;
  quiet?: boolean;
}

export interface TrainResult {
  steps: number; finalLoss: number; valLoss: number | null; valBpb: number | null; tokPerS: number; logPath: string;
  /** the final checkpoint (an HF model directory) and the plots written */
  checkpoint: string; plots: string[];
}

/** the resolved run: everything that must stay equal across a resume */
interface RunSpec {
  config: ModelConfig; dtype: 'f32' | 'bf16'; seed: number; batch: number; seqLen: number; gradAccum: number;
  steps: number; schedule: Schedule; evalEvery: number; evalBatches: number; data: string[]; tokenizer?: string;
}

export class TrainError extends Error {
  constructor(msg: string) { super(msg); this.name = 'TrainError'; }
}

function resolveConfig(o: TrainOptions): ModelConfig {
  const base = typeof o.config === 'string' ? loadConfig(o.config) : validateConfig(o.config);
  return o.vocabSize ? validateConfig({ ...base, vocab_size: o.vocabSize }) : base;
}

/** bytes a run needs: f32 weights + grads + two moments, and the activations of one micro-batch */
export function memoryEstimate(c: ModelConfig, batch: number, seqLen: number): number {
  const p = countParams(c).total;
  const N = batch * seqLen, d = c.hidden_size, f = c.intermediate_size;
  const perLayer = N * (8 * d + 4 * f) * 4; // saved activations per layer, f32
  return p * 16 + c.num_hidden_layers * perLayer + N * d * 8 + (32 << 20);
}

function resolveSpec(o: TrainOptions): RunSpec {
  const config = resolveConfig(o);
  const seqLen = o.seqLen ?? config.dsllm?.seq_len ?? Math.min(config.max_position_embeddings, 256);
  const M = flopsPerToken(config, seqLen).M;
  let batch = o.batch ?? config.dsllm?.batch ?? 8;
  let gradAccum = o.gradAccum ?? 1;
  let steps = o.steps ?? 0;
  let lr = o.lr;
  if (o.compute) {
    const tokens = o.compute / M;
    const bTok = batchTokensOpt(o.compute);
    if (o.batch === undefined) {
      // B_opt in tokens → micro-batches of `batch` sequences, accumulated
      gradAccum = Math.max(1, Math.round(bTok / (batch * seqLen)));
    }
    if (!steps) steps = Math.max(1, Math.round(tokens / (batch * gradAccum * seqLen)));
    lr ??= etaOpt(o.compute);
  }
  if (!steps) throw new TrainError('give --steps or --compute');
  lr ??= 3e-4;
  const warmup = o.warmup ?? Math.min(2000, Math.max(1, Math.round(steps * 0.05)));
  const schedule: Schedule = o.schedule === 'cosine'
    ? { kind: 'cosine', peak: lr, warmup, total: steps }
    : { kind: 'multistep', peak: lr, warmup, total: steps };
  batch = Math.max(1, batch);
  return {
    config, dtype: o.dtype ?? 'f32', seed: o.seed ?? 1337, batch, seqLen, gradAccum, steps, schedule,
    evalEvery: o.evalEvery ?? Math.max(1, Math.round(steps / 10)), evalBatches: o.evalBatches ?? 8, data: o.data,
    ...(o.tokenizer ? { tokenizer: o.tokenizer } : {}),
  };
}

function evaluate(model: DeepSeekLM, v: ValidationSet): { loss: number; bpb: number | null } {
  let sum = 0;
  for (const b of v.batches) sum += noGrad(() => scope(() => model.loss(b.ids, b.targets).item()));
  const loss = sum / v.batches.length;
  // nats per token → bits per byte with the bytes of text the evaluated target tokens stand for
  return { loss, bpb: v.bytes ? (loss / Math.LN2) * (v.tokens / v.bytes) : null };
}

function openTokenizer(path: string): Tokenizer {
  try { return loadTokenizer(path); } catch (e) { throw new DataError(`--tokenizer ${path}: ${(e as Error).message}`); }
}

/** the run's data: token shards through ShardLoader, or text files tokenized on the fly */
export function openTrainData(spec: Pick<RunSpec, 'data' | 'tokenizer' | 'batch' | 'seqLen' | 'seed' | 'evalBatches'>, modelVocab: number): TrainData {
  const tok = spec.tokenizer ? openTokenizer(spec.tokenizer) : undefined;
  const { batch: B, seqLen: T } = spec;
  const shardLike = spec.data.filter((p) => isShardInput([p]));
  if (shardLike.length && shardLike.length < spec.data.length) {
    throw new DataError(`--data mixes token shards (${shardLike[0]}) and text files (${spec.data.find((p) => !shardLike.includes(p))}): give one kind`);
  }
  if (shardLike.length) {
    return shardData({ paths: spec.data, B, T, seed: spec.seed, tokenizer: tok, valTokens: spec.evalBatches * B * T + 1, modelVocab });
  }
  const { train, val } = tok ? tokenizedStreams(spec.data, tok) : byteLevelStreams(spec.data);
  const what = tok ? `tokenizer ${spec.tokenizer} (${tok.vocabSize} ids)` : 'byte-level';
  return { train: randomWindows(train, B, T, spec.seed), val, vocabSize: train.vocabSize, describe: `${train.describe}, ${what}; ${val.describe}` };
}

export function train(o: TrainOptions): TrainResult {
  mkdirSync(o.out, { recursive: true });
  const ckpt = o.resume ? latestCheckpoint(typeof o.resume === 'string' ? o.resume : o.out) : null;
  if (o.resume && !ckpt) throw new TrainError(`--resume: no complete checkpoint under ${typeof o.resume === 'string' ? o.resume : o.out}`);
  let spec: RunSpec;
  if (ckpt) {
    const saved = readTrainerState(ckpt).run as unknown as RunSpec;
    spec = { ...saved };
    if (o.steps && o.steps !== saved.steps) {
      // continual training: a longer run branched from this one; identical up to the first LR drop
      spec.steps = o.steps;
      spec.schedule = { ...saved.schedule, total: o.steps };
      spec.evalEvery = o.evalEvery ?? saved.evalEvery;
    }
  } else spec = resolveSpec(o);
  const c = spec.config;
  const need = memoryEstimate(c, spec.batch, spec.seqLen);
  if (need > totalmem() * 0.9) {
    throw new TrainError(`this run needs about ${(need / 2 ** 30).toFixed(1)} GiB (weights, gradients, AdamW moments and activations of a ${spec.batch}×${spec.seqLen} micro-batch); the machine has ${(totalmem() / 2 ** 30).toFixed(1)} GiB. Use a smaller model or --batch`);
  }
  const data = openTrainData(spec, c.vocab_size);
  if (data.vocabSize > c.vocab_size) {
    throw new TrainError(spec.tokenizer
      ? `tokenizer ${spec.tokenizer} has ${data.vocabSize} ids; the model has vocab_size ${c.vocab_size}: use --vocab-size ${data.vocabSize} or a tokenizer of at most ${c.vocab_size} ids`
      : `the data needs a vocabulary of ${data.vocabSize}; the model has ${c.vocab_size} (use --vocab-size ${data.vocabSize})`);
  }
  setComputeDType(spec.dtype);
  const model = new DeepSeekLM(c, { seed: spec.seed });
  const opt = new AdamW(model.namedParameters());
  let step = 0, tokens = 0, timeBefore = 0;
  const logPath = join(o.out, 'log.jsonl');
  if (ckpt) {
    const st = restoreCheckpoint(ckpt, model, opt);
    step = st.step; tokens = st.tokens; timeBefore = st.time_s;
    data.train.restore(st.data ?? st.rng);
    const parentLog = join(ckpt, '..', '..', 'log.jsonl');
    // a run branched into a new directory starts its log with the parent's records up to the branch point
    if (!existsSync(logPath) && existsSync(parentLog)) writeFileSync(logPath, readFileSync(parentLog));
    truncateLog(logPath, step);
  } else writeFileSync(logPath, '');
  writeFileAtomic(join(o.out, 'run.json'), JSON.stringify(spec, null, 2) + '\n');
  const log = (rec: Record<string, unknown>) => appendFileSync(logPath, JSON.stringify(rec) + '\n');
  const valSet = validationSet(data.val, spec.batch, spec.seqLen, spec.evalBatches);
  const fpt = flopsPerToken(c, spec.seqLen).train_exact;
  const peak = spec.dtype === 'bf16' ? 950e9 : 475e9;
  const tokPerStep = spec.batch * spec.seqLen * spec.gradAccum;
  const say = (s: string) => { if (!o.quiet) process.stderr.write(s + '\n'); };
  say(`data: ${data.describe}`);
  say(`train: ${countParams(c).total.toLocaleString()} params, ${spec.dtype}, batch ${spec.batch}×${spec.seqLen}×${spec.gradAccum} = ${tokPerStep} tokens, ` +
    `${spec.steps} steps, peak LR ${spec.schedule.peak.toExponential(2)} (${spec.schedule.kind}, warmup ${spec.schedule.warmup})${ckpt ? `; resumed at step ${step} from ${ckpt}` : ''}`);
  const progress = new Progress(spec.steps, 'train ', process.stderr);
  const t0 = Date.now();
  let lastCkpt = Date.now(), stepTimeSum = 0, stepCount = 0, lastLoss = NaN;
  let lastVal: { loss: number; bpb: number | null } | null = null;
  const state = () => ({ step, tokens, data: data.train.state(), run: spec as unknown as Record<string, unknown>, time_s: timeBefore + (Date.now() - t0) / 1000 });
  // the state is copied when save() returns; the files are written while the next steps run
  const writer = new CheckpointWriter(o.checkpointInBackground ?? true, snapshotSize(checkpointFiles(model, opt, state())));
  const save = (wait: boolean) => {
    const st = state();
    const d = writer.save(o.out, st.step, checkpointFiles(model, opt, st), o.keep ?? 3, wait);
    lastCkpt = Date.now();
    return d;
  };
  let final: string;
  try {
    while (step < spec.steps) {
      const lr = learningRate(spec.schedule, step);
      const batches = Array.from({ length: spec.gradAccum }, () => data.train.next());
      const ts = process.hrtime.bigint();
      let r;
      try {
        r = trainStep(model, opt, batches, lr);
      } catch (e) {
        if (e instanceof OpError && /non-finite/.test(e.message)) {
          // the update was refused before touching the weights: the state of this step is the last good one
          const d = save(true);
          throw new TrainError(`${e.message}\nstopped at step ${step + 1}; last good state saved to ${d}. Resume with a lower learning rate: dsllm train --resume --out ${o.out} --lr ${(spec.schedule.peak / 3).toExponential(2)}`);
        }
        throw e;
      } finally {
        for (const b of batches) { b.ids.dispose(); b.targets.dispose(); }
      }
      const dt = Number(process.hrtime.bigint() - ts) / 1e9;
      step++; tokens += tokPerStep; stepTimeSum += dt; stepCount++; lastLoss = r.loss;
      const rec: Record<string, unknown> = { step, loss: r.loss, lr, grad_norm: r.gradNorm, tokens, step_s: dt, tok_per_s: tokPerStep / dt, mfu: (tokPerStep / dt) * fpt / peak };
      if (step % spec.evalEvery === 0 || step === spec.steps) {
        const te = performance.now();
        lastVal = evaluate(model, valSet);
        rec.val_loss = lastVal.loss; rec.val_bpb = lastVal.bpb; rec.eval_s = (performance.now() - te) / 1000;
      }
      // wall time of the whole run so far (data, logging, checkpoints, validation; earlier sessions included)
      rec.elapsed_s = timeBefore + (Date.now() - t0) / 1000;
      log(rec);
      const due = (o.checkpointEvery && step % o.checkpointEvery === 0) || Date.now() - lastCkpt > (o.checkpointMinutes ?? 5) * 60_000;
      if (due && step < spec.steps) save(false);
      if (!o.quiet) {
        progress.update(step, {
          loss: r.loss.toFixed(4), lr: lr.toExponential(2), 'tok/s': Math.round(tokPerStep / dt).toString(),
          mfu: `${(((tokPerStep / dt) * fpt / peak) * 100).toFixed(0)}%`, ...(lastVal?.bpb ? { 'val bpb': lastVal.bpb.toFixed(3) } : {}),
        }, (Date.now() - t0) / 1000, step === spec.steps);
      }
    }
    progress.end();
    final = save(true);
    writer.close();
  } finally {
    writer.close(true); // an error is propagating: still let the write in flight finish
  }
  const plots = writeCurves(o.out, logPath);
  for (const b of valSet.batches) { b.ids.dispose(); b.targets.dispose(); }
  data.train.close();
  const tokPerS = stepCount ? (tokPerStep * stepCount) / stepTimeSum : 0;
  say(`done: ${step} steps in ${fmtTime((Date.now() - t0) / 1000)}, loss ${lastLoss.toFixed(4)}` +
    (lastVal ? `, validation ${lastVal.loss.toFixed(4)} nats/token` + (lastVal.bpb ? `, ${lastVal.bpb.toFixed(4)} bits/byte` : ' (bits/byte unknown: give --tokenizer)') : '') + `; checkpoint ${final}`);
  model.dispose(); opt.dispose();
  return { steps: step, finalLoss: lastLoss, valLoss: lastVal?.loss ?? null, valBpb: lastVal?.bpb ?? null, tokPerS, logPath, checkpoint: final, plots };
}

/** drops log records past the resumed step, so the log reads as one uninterrupted run */
function truncateLog(path: string, step: number): void {
  if (!existsSync(path)) return;
  const keep = readFileSync(path, 'utf8').split('\n').filter((l) => {
    if (!l.trim()) return false;
    try { return (JSON.parse(l).step as number) <= step; } catch { return false; }
  });
  writeFileAtomic(path, keep.map((l) => l + '\n').join(''));
}

/** writes an SVG plot, and a PNG next to it when @resvg/resvg-js is installed; returns the paths */
export function writePlot(svgPath: string, svg: string): string[] {
  writeFileAtomic(svgPath, svg);
  const png = svgToPng(svg);
  if (!png) return [svgPath];
  const pngPath = svgPath.replace(/\.svg$/, '.png');
  writeFileAtomic(pngPath, png);
  return [svgPath, pngPath];
}

/** loss and LR curves of a run (loss.svg, lr.svg, and PNGs when possible) */
export function writeCurves(out: string, logPath: string): string[] {
  const recs = readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number>);
  const tr = recs.filter((r) => r.loss !== undefined), va = recs.filter((r) => r.val_loss !== undefined);
  return [...writePlot(join(out, 'loss.svg'), lineChart([
    { name: 'train loss', x: tr.map((r) => r.step), y: tr.map((r) => r.loss) },
    { name: 'validation loss', x: va.map((r) => r.step), y: va.map((r) => r.val_loss) },
  ], { title: 'loss (nats/token)', xLabel: 'step', yLabel: 'loss' })),
  ...writePlot(join(out, 'lr.svg'), lineChart([{ name: 'learning rate', x: tr.map((r) => r.step), y: tr.map((r) => r.lr) }],
    { title: 'learning rate', xLabel: 'step', yLabel: 'lr' }))];
}
