// `dsllm scaling verify <dir>`: trains the budget the sweep's loss law predicts (by default 4× its
// largest IsoFLOP budget) with the fitted M_opt(C) shape and the fitted (or the sweep's) η and B,
// then records predicted (by the law through each budget's best run, and by the one through the
// parabola minima) vs actual bits-per-byte in verify.json and the report.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { evalLaw, etaOpt, batchTokensOpt } from './laws.js';
import { FitError, type RunResult } from './fit.js';
import { fitSweep, predictionAt, writeReport, type VerifyRecord } from './report.js';
import { makeJob, shapeOptions, type SweepSpec } from './spec.js';
import { searchShape } from './shape.js';
import { readSweepResults, runDirOf, spawnJob } from './sweep.js';
import { readResult } from './run.js';
import { prepareSweepData } from './data.js';

export interface VerifyOptions {
  compute?: number; factor?: number;
  /** η and B: the IsoFLOP runs' rule (default), or the laws fitted on the grid */
  hyper?: 'isoflop' | 'fitted';
  log?: (s: string) => void;
}

export async function verifySweep(dir: string, o: VerifyOptions = {}): Promise<VerifyRecord> {
  const spec = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')) as SweepSpec;
  const runs = readSweepResults(dir);
  const isoC = runs.filter((r) => r.kind === 'isoflop').map((r) => r.compute);
  if (!isoC.length) throw new FitError(`${dir}: no IsoFLOP runs; verify predicts from the loss-vs-compute law of the IsoFLOP minima`);
  const C = o.compute ?? (o.factor ?? 4) * Math.max(...isoC);
  const fits = fitSweep(runs, C / Math.max(...isoC));
  if (!fits.isoflop) throw new FitError(`${dir}: ${fits.isoflop_error}`);
  const shape = searchShape(evalLaw(fits.isoflop.modelScale, C), shapeOptions(spec));
  let lr: number, bt: number, how: string;
  if (o.hyper === 'fitted') {
    if (!fits.hyper) throw new FitError(`${dir}: --hyper fitted needs the grid's η_opt(C), B_opt(C) laws: ${fits.hyper_error ?? 'the sweep has no grid'}`);
    lr = evalLaw(fits.hyper.eta, C); bt = evalLaw(fits.hyper.batch, C); how = 'fitted η_opt(C), B_opt(C)';
  } else {
    // the rule the IsoFLOP runs used, so that the prediction and the run differ only in scale
    const f = spec.isoflop!;
    lr = (f.lr === 'paper' ? etaOpt(C) : f.lr) * f.lr_scale;
    bt = f.batch_tokens === 'paper' ? batchTokensOpt(C) : f.batch_tokens;
    how = 'the IsoFLOP runs\' η and B rule';
  }
  const job = makeJob(spec, 'verify', C, shape.config, bt, lr);
  const p = predictionAt(fits.isoflop.loss, C), q = predictionAt(fits.isoflop.lossAtMinimum, C);
  o.log?.(`verify: C = ${C.toExponential(3)}, model ${shape.n_layer}×${shape.d_model} (M = ${shape.M.toExponential(3)}), ${job.steps} steps of ${job.batch_tokens} tokens, η ${lr.toExponential(2)} (${how}); predicted ${p.bpb.toFixed(4)} bits/byte (parabola-minima law ${q.bpb.toFixed(4)})`);
  const dataPath = join(dir, 'data.txt');
  prepareSweepData(spec.data, spec.max_bytes, spec.seed, dataPath); // written by the sweep; again only if missing
  const runDir = runDirOf(dir, job.id);
  let r: RunResult | null = readResult(runDir);
  if (!r || r.status !== 'ok') r = await spawnJob(job, runDir, dataPath, availableParallelism());
  const actual = r.status === 'ok' ? r.val_bpb : null;
  const rec: VerifyRecord = {
    compute: C, predicted: p, actual_bpb: actual, rel_error: actual !== null ? (actual - p.bpb) / p.bpb : null,
    predicted_at_minimum: q, rel_error_at_minimum: actual !== null ? (actual - q.bpb) / q.bpb : null, run: r,
  };
  writeFileAtomic(join(dir, 'verify.json'), JSON.stringify(rec, null, 2) + '\n');
  writeReport(dir);
  return rec;
}
