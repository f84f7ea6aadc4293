// `dsllm scaling sweep`: expands a spec into runs, trains the ones without a cached result in child
// processes (up to the core count at a time, one kernel thread each when several run), and records
// failures with their reason so the fits can leave them out. Rerunning the same command resumes.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../io/atomic.js';
import { expandRuns, SpecError, type RunJob, type SweepSpec } from './spec.js';
import { prepareSweepData } from './data.js';
import { baseResult, readResult, resultPath, writeResult } from './run.js';
import type { RunResult } from './fit.js';

export interface SweepOptions {
  out: string;
  jobs?: number;
  /** train failed runs again instead of keeping their cached failure */
  retryFailed?: boolean;
  log?: (line: string) => void;
}

export interface SweepSummary { out: string; runs: RunResult[]; trained: number; cached: number; failed: number; wall_s: number }

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export const runDirOf = (out: string, id: string) => join(out, 'runs', id);

/** the sweep's text file, its spec and its run list, written into `out` */
export function prepareSweep(spec: SweepSpec, out: string): { jobs: RunJob[]; dataPath: string; describe: string } {
  const specPath = join(out, 'spec.json');
  if (existsSync(specPath)) {
    const prev = JSON.parse(readFileSync(specPath, 'utf8')) as SweepSpec;
    for (const k of ['data', 'max_bytes', 'seq_len', 'seed', 'eval_tokens'] as const) {
      if (JSON.stringify(prev[k]) !== JSON.stringify(spec[k])) {
        throw new SpecError(`${out} holds a sweep with a different "${k}" (${JSON.stringify(prev[k])}, now ${JSON.stringify(spec[k])}): its cached runs are not comparable; use another --out`);
      }
    }
  }
  const jobs = expandRuns(spec);
  mkdirSync(join(out, 'runs'), { recursive: true });
  writeFileAtomic(specPath, JSON.stringify(spec, null, 2) + '\n');
  const dataPath = join(out, 'data.txt');
  const describe = prepareSweepData(spec.data, spec.max_bytes, spec.seed, dataPath);
  return { jobs, dataPath, describe };
}

/** runs one job in a child process; a crash without result.json becomes a failed result with stderr's tail */
export function spawnJob(job: RunJob, runDir: string, dataPath: string, threads: number): Promise<RunResult> {
  mkdirSync(runDir, { recursive: true });
  writeFileAtomic(join(runDir, 'job.json'), JSON.stringify(job, null, 2) + '\n');
  rmSync(resultPath(runDir), { force: true });
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [WORKER, runDir, dataPath], {
      env: { ...process.env, DSLLM_THREADS: String(threads) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-4000); });
    child.stdout.resume();
    child.on('close', (code, signal) => {
      writeFileSync(join(runDir, 'stderr.txt'), err);
      const r = readResult(runDir);
      if (r) { done(r); return; }
      const tail = err.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
      const failed: RunResult = { ...baseResult(job), status: 'failed', reason: `worker exited with ${signal ?? `code ${code}`}${tail ? `: ${tail}` : ''}`, val_bpb: null, val_loss: null, wall_s: (Date.now() - t0) / 1000 };
      writeResult(runDir, failed);
      done(failed);
    });
  });
}

export async function runSweep(spec: SweepSpec, o: SweepOptions): Promise<SweepSummary> {
  const out = resolve(o.out);
  const log = o.log ?? (() => {});
  const t0 = Date.now();
  const { jobs, dataPath, describe } = prepareSweep(spec, out);
  log(`sweep ${spec.name}: ${jobs.length} runs (${jobs.filter((j) => j.kind === 'grid').length} grid, ${jobs.filter((j) => j.kind === 'isoflop').length} IsoFLOP); data: ${describe}`);
  const results = new Map<string, RunResult>();
  let cached = 0;
  for (const j of jobs) {
    const r = readResult(runDirOf(out, j.id));
    if (r && !(o.retryFailed && r.status !== 'ok')) { results.set(j.id, r); cached++; }
  }
  const todo = jobs.length - cached;
  if (cached) log(`${cached} runs cached in ${out}/runs, ${todo} to train`);
  const cores = availableParallelism();
  const chains = reuseChains(jobs).filter((c) => c.some((j) => !results.has(j.id)));
  const parallel = Math.max(1, Math.min(o.jobs ?? spec.jobs ?? cores, chains.length || 1));
  const threads = Math.max(1, Math.floor(cores / parallel));
  let next = 0, finished = 0;
  const worker = async () => {
    while (next < chains.length) {
      const chain = chains[next++];
      let prev: RunJob | null = null;
      for (const [k, j0] of chain.entries()) {
        if (results.has(j0.id)) { prev = null; continue; }
        const j: RunJob = { ...j0 };
        if (k < chain.length - 1) j.checkpoint_at = Math.round(0.8 * j.steps);
        if (prev) j.resume_from = join(runDirOf(out, prev.id), 'train', 'checkpoints', `step-${String(prev.checkpoint_at).padStart(8, '0')}`);
        const r = await spawnJob(j, runDirOf(out, j.id), dataPath, threads);
        prev = r.status === 'ok' && j.checkpoint_at ? j : null;
        results.set(j.id, r);
        finished++;
        log(`[${finished}/${todo}] ${j.id}${j.resume_from ? ' (continues a shorter run\'s first LR stage)' : ''}: ${r.status === 'ok' ? `${(r.val_bpb as number).toFixed(4)} bits/byte` : `FAILED (${r.reason})`} in ${r.wall_s.toFixed(1)} s`);
      }
      for (const j of chain) rmSync(join(runDirOf(out, j.id), 'train', 'checkpoints'), { recursive: true, force: true });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const runs = jobs.map((j) => results.get(j.id) as RunResult);
  writeFileAtomic(join(out, 'results.jsonl'), runs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { out, runs, trained: todo, cached, failed: runs.filter((r) => r.status !== 'ok').length, wall_s: (Date.now() - t0) / 1000 };
}

/**
 * Groups runs that differ only in their budget (same model, B, η, seed: the paper's hyper-parameter
 * sweeps) into chains by step count: each one continues from the end of the previous one's
 * constant-LR stage (80% of its steps), which a longer multi-step run passes through unchanged.
 * All runs of a group use the group's shortest warmup so that they share the stage exactly, whether
 * they run chained or (after a partial resume) fresh.
 */
export function reuseChains(jobs: RunJob[]): RunJob[][] {
  const groups = new Map<string, RunJob[]>();
  for (const j0 of jobs) {
    const j = { ...j0 };
    const c = j.config;
    const key = JSON.stringify([c.num_hidden_layers, c.hidden_size, c.intermediate_size, c.num_attention_heads, j.batch_tokens, j.lr, j.seed, j.seq_len]);
    groups.set(key, [...(groups.get(key) ?? []), j]);
  }
  const chains: RunJob[][] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.steps - b.steps);
    const warmup = Math.min(...g.map((j) => j.warmup));
    for (const j of g) j.warmup = warmup;
    let cur: RunJob[] = [];
    for (const j of g) {
      // a branch needs the shorter run's first stage to end after its warmup, and strictly more steps
      const p = cur[cur.length - 1];
      if (p && j.steps > p.steps && Math.round(0.8 * p.steps) > warmup && j.eval_batches === p.eval_batches) cur.push(j);
      else { if (cur.length) chains.push(cur); cur = [j]; }
    }
    if (cur.length) chains.push(cur);
  }
  // longest chains first, so parallel slots finish together
  return chains.sort((a, b) => b.reduce((s, j) => s + j.tokens * j.M, 0) - a.reduce((s, j) => s + j.tokens * j.M, 0));
}

/** every run result under a sweep directory (the fits' input) */
export function readSweepResults(out: string): RunResult[] {
  const p = join(out, 'results.jsonl');
  if (!existsSync(p)) throw new SpecError(`${out}: no results.jsonl (not a sweep directory, or the sweep never finished: rerun dsllm scaling sweep)`);
  return readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunResult);
}
