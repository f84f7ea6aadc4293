// Throughput of the whole training loop (data, logging, checkpointing) against pure step throughput
// (the [core] bench's train-worker: the same preset, dtype and batch, random ids, no I/O).
// Runs alternate (worker, loop, worker, loop, …) so machine noise hits both; medians are reported.
// Loop tokens/s comes from the run's log.jsonl: tokens after the 2 warm-up steps over the wall time
// between those records (`elapsed_s`), validation time (`eval_s`) taken out; a checkpoint every 20
// steps (far more often than the default 5 minutes) is included: steps 20 and 40 of 46, so the
// background write of the last one has 6 steps to finish inside the measured window. Bar: ratio ≥ 0.95.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { emit, median, note, repoPath, spreadOf, type BenchOptions } from './common.js';
import { loadAverage, readLog } from './run-log.js';
import { sharedDataPath } from './learning.js';
import { selectBackend } from '../src/backends/select.js';
import { train } from '../src/train/trainer.js';

function worker(preset: string, dtype: string, steps: number): number {
  const w = join(dirname(fileURLToPath(import.meta.url)), 'train-worker.js');
  const r = spawnSync(process.execPath, [w, preset, dtype, 'train', String(steps), '2'], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`train-worker failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { times: number[]; tokens_per_step: number };
  return (j.times.length * j.tokens_per_step) / j.times.reduce((a, b) => a + b, 0);
}

export async function run(opts: BenchOptions): Promise<void> {
  await selectBackend();
  const corpus = sharedDataPath('corpus', 'en', 'tinyshakespeare.txt');
  if (!corpus) { note('loop: skipped, ../shared/data/corpus/en/tinyshakespeare.txt not found', opts); return; }
  const preset = 'nano', dtype = 'bf16' as const, steps = opts.quick ? 12 : 46, reps = opts.quick ? 1 : Math.max(1, Math.min(opts.reps, 3));
  const pure: number[] = [], loop: number[] = [], inner: number[] = [];
  for (let i = 0; i < reps; i++) {
    pure.push(worker(preset, dtype, steps - 2));
    const out = repoPath('bench-out', 'loop', `run-${i}`);
    rmSync(out, { recursive: true, force: true });
    train({ config: preset, data: [corpus], out, dtype, steps, batch: 16, seqLen: 256, evalEvery: 1e9, evalBatches: 2, checkpointEvery: 20, quiet: true, seed: 1 });
    const recs = readLog(join(out, 'log.jsonl')) as (ReturnType<typeof readLog>[number] & { elapsed_s: number; eval_s?: number })[];
    const a = recs[1], b = recs[recs.length - 1];
    const wall = b.elapsed_s - a.elapsed_s - (b.eval_s ?? 0);
    const tokens = b.tokens - a.tokens;
    loop.push(tokens / wall);
    inner.push(recs.slice(2).reduce((s, r) => s + r.step_s, 0) / wall);
    note(`loop: rep ${i + 1}: pure ${pure[i].toFixed(0)} tok/s, loop ${loop[i].toFixed(0)} tok/s, step time / loop wall ${(inner[i] * 100).toFixed(1)}% (load ${loadAverage()})`, opts);
  }
  emit({
    suite: 'loop', case: `${preset}-${dtype}`, metric: 'tokens/s', unit: 'tok/s', ours: median(loop), peer: 'train-worker', peer_value: median(pure), ratio: median(loop) / median(pure),
    reps, spread: spreadOf(loop), note: `whole loop incl. data, JSONL log, a checkpoint every 20 steps (written in the background); inside the loop the steps take ${(median(inner) * 100).toFixed(1)}% of the wall time; ` +
      `loop/pure per rep ${loop.map((l, i) => (l / pure[i]).toFixed(2)).join(', ')} (across processes: machine load moves it, the in-run share does not); bar ≥ 0.95; load ${loadAverage()}`,
  }, opts);
}
