// The issue's learning bars, on ../shared/data/corpus/en/tinyshakespeare.txt with byte-level tokens
// and the last 10% held out (a long run, so a bench suite rather than a test):
//   nano-10min:     the nano preset reaches validation loss ≤ 1.8 nats/byte within 10 minutes of
//                   training on this machine (steps sized from a probe of this machine's speed);
//   micro-vs-nano:  micro reaches lower bits-per-byte than nano on the same token budget.
// Runs go through train() (the whole loop: data, logging, checkpoints); logs under bench-out/learning/.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emit, median, note, repoPath, type BenchOptions } from './common.js';
import { finalVal, firstBelow, loadAverage, readLog } from './run-log.js';
import { selectBackend } from '../src/backends/select.js';
import { train, type TrainOptions } from '../src/train/trainer.js';

/** ../shared/data/…, found above the package root (as laid out in this workplace) */
export function sharedDataPath(...parts: string[]): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 7; i++) {
    const cand = resolve(dir, '..', 'shared', 'data', ...parts);
    if (existsSync(cand)) return cand;
    dir = dirname(dir);
  }
  return null;
}

const DTYPE = 'bf16' as const;

function runOnce(name: string, o: Omit<TrainOptions, 'out' | 'data'>, corpus: string): { recs: ReturnType<typeof readLog>; wallS: number } {
  const out = repoPath('bench-out', 'learning', name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  train({ ...o, data: [corpus], out, quiet: true, dtype: DTYPE, vocabSize: 257, seed: 1337 });
  return { recs: readLog(join(out, 'log.jsonl')), wallS: (Date.now() - t0) / 1000 };
}

export async function run(opts: BenchOptions): Promise<void> {
  await selectBackend();
  const corpus = sharedDataPath('corpus', 'en', 'tinyshakespeare.txt');
  if (!corpus) { note('learning: skipped, ../shared/data/corpus/en/tinyshakespeare.txt not found', opts); return; }
  const want = (c: string) => !opts.cases.length || opts.cases.includes(c);
  const minutes = opts.quick ? 1 : 10;
  if (want('nano-10min')) {
    // 8×256-token batches: at a budget of ~2M tokens more updates beat bigger batches (16×256 reached
    // 1.818 nats/byte on 2.3M tokens, 561 steps)
    const B = 8, T = 256, tokPerStep = B * T;
    // probe this machine's speed, then size the run to fill the budget (the schedule needs the total up front)
    const probe = runOnce('probe', { config: 'nano', steps: 6, batch: B, seqLen: T, evalEvery: 1000, evalBatches: 1, checkpointMinutes: 1e9 }, corpus);
    const tokps = median(probe.recs.slice(1).map((r) => r.tok_per_s));
    const steps = Math.floor((minutes * 60 * tokps * 0.9) / tokPerStep);
    note(`learning: nano probe ${tokps.toFixed(0)} tok/s → ${steps} steps of ${tokPerStep} tokens for ${minutes} min (load ${loadAverage()})`, opts);
    const r = runOnce('nano-10min', { config: 'nano', steps, batch: B, seqLen: T, lr: 3e-3, evalEvery: Math.max(1, Math.round(steps / 10)), evalBatches: 8 }, corpus);
    // the bar is time to target: the first evaluation at ≤ 1.8 nats/byte, by the log's wall clock
    // (elapsed_s counts everything: data, evaluation, checkpoints)
    const v = finalVal(r.recs), hit = firstBelow(r.recs, 1.8);
    const pass = hit !== null && (hit.elapsed_s ?? Infinity) <= minutes * 60;
    emit({
      suite: 'learning', case: `nano-${minutes}min`, metric: 'validation loss', unit: 'nats/B', ours: v.loss, peer: 'bar 1.8', peer_value: 1.8, ratio: v.loss / 1.8, reps: 1, spread: null,
      note: `${hit ? `${hit.val_loss!.toFixed(4)} nats/byte at step ${hit.step} after ${hit.elapsed_s!.toFixed(0)} s` : 'never reached 1.8'}; final ${v.loss.toFixed(4)} nats/byte = ${v.bpb.toFixed(4)} bits/byte after ${steps} steps (${(steps * tokPerStep / 1e6).toFixed(2)}M tokens) in ${r.wallS.toFixed(0)} s wall, ${DTYPE}; ${pass ? 'PASS' : 'FAIL'}; load ${loadAverage()}`,
    }, opts);
  }
  if (want('micro-vs-nano')) {
    // same tokens per step (16×256 = 8×512) and the same number of steps, so the same token budget
    // Same batches (16×256) and steps for both, so the same token budget; each at its own peak LR, as the
    // paper's η_opt depends on scale: probed at 300 steps, nano does best at 4e-3 (3.07 bits/byte; 2e-3 is
    // slower), while micro at 4e-3 runs at the clip (grad norm ≈ 1) and ends at 3.25, at 1.5e-3 it learns faster.
    const tokPerStep = 16 * 256;
    const steps = opts.quick ? 10 : 300;
    const common = { steps, evalEvery: Math.max(1, steps / 4), evalBatches: 8, checkpointMinutes: 1e9, batch: 16, seqLen: 256 };
    const nano = runOnce('budget-nano', { ...common, config: 'nano', lr: 4e-3 }, corpus);
    const micro = runOnce('budget-micro', { ...common, config: 'micro', lr: 1.5e-3 }, corpus);
    const n = finalVal(nano.recs), m = finalVal(micro.recs);
    emit({
      suite: 'learning', case: `micro-vs-nano-${(steps * tokPerStep / 1e3).toFixed(0)}k`, metric: 'validation bits/byte', unit: 'bits/B', ours: m.bpb, peer: 'nano', peer_value: n.bpb, ratio: m.bpb / n.bpb, reps: 1, spread: null,
      note: `micro ${m.bpb.toFixed(4)} vs nano ${n.bpb.toFixed(4)} bits/byte on ${steps * tokPerStep} tokens (${micro.wallS.toFixed(0)} s vs ${nano.wallS.toFixed(0)} s); bar: ratio < 1 → ${m.bpb < n.bpb ? 'PASS' : 'FAIL'}; load ${loadAverage()}`,
    }, opts);
  }
}
