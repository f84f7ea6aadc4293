// One sweep run: trains the job's model with `train()` on the sweep text, evaluates held-out
// bits-per-byte, keeps the curve (log.jsonl, loss.svg) and drops the checkpoint, and writes
// result.json, the cache a resumed sweep reads instead of training again.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { train } from '../train/trainer.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { RunJob } from './spec.js';
import type { RunResult } from './fit.js';

export const resultPath = (runDir: string) => join(runDir, 'result.json');

export function readResult(runDir: string): RunResult | null {
  const p = resultPath(runDir);
  if (!existsSync(p)) return null;
  try { return JSON.parse(readFileSync(p, 'utf8')) as RunResult; } catch { return null; }
}

export function baseResult(job: RunJob): Omit<RunResult, 'status' | 'val_bpb' | 'val_loss' | 'wall_s'> {
  return {
    id: job.id, kind: job.kind, compute: job.compute, M: job.M, n_layer: job.config.num_hidden_layers, d_model: job.config.hidden_size,
    batch_tokens: job.batch_tokens, lr: job.lr, steps: job.steps, tokens: job.tokens,
  };
}

export function writeResult(runDir: string, r: RunResult): void {
  writeFileAtomic(resultPath(runDir), JSON.stringify(r, null, 2) + '\n');
}

/** trains one job in this process (the backend must be selected) and records its result */
export function runJob(job: RunJob, runDir: string, dataPath: string): RunResult {
  const t0 = Date.now();
  const base = baseResult(job);
  const out = join(runDir, 'train');
  let r: RunResult;
  try {
    const tr = train({
      config: job.config, data: [dataPath], out, batch: job.batch_seqs, seqLen: job.seq_len, steps: job.steps, lr: job.lr,
      warmup: job.warmup, schedule: 'multistep', evalEvery: job.steps, evalBatches: job.eval_batches, seed: job.seed,
      checkpointMinutes: 1e9, keep: 2, quiet: true,
      ...(job.resume_from ? { resume: job.resume_from } : {}), ...(job.checkpoint_at ? { checkpointEvery: job.checkpoint_at } : {}),
    });
    const wall = (Date.now() - t0) / 1000;
    if (tr.valBpb === null || !Number.isFinite(tr.valBpb)) {
      r = { ...base, status: 'failed', reason: `validation bits-per-byte is ${tr.valBpb} (diverged)`, val_bpb: null, val_loss: tr.valLoss, wall_s: wall };
    } else r = { ...base, status: 'ok', val_bpb: tr.valBpb, val_loss: tr.valLoss, wall_s: wall };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    r = { ...base, status: 'failed', reason: /non-finite/.test(msg) ? `diverged: ${msg}` : msg, val_bpb: null, val_loss: null, wall_s: (Date.now() - t0) / 1000 };
  }
  // the curve stays; the weights are not needed again (a chain's first-stage checkpoint goes when the chain ends)
  if (!job.checkpoint_at) rmSync(join(out, 'checkpoints'), { recursive: true, force: true });
  writeResult(runDir, r);
  return r;
}
