// Slurm executor: one job array per stage over its missing tasks, chained with
// --dependency=afterok so stage k+1 starts when every task of stage k succeeded. A relaunch submits
// only tasks without a completion marker (a fully complete stage submits nothing and is no dependency).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Pipeline, type StageName } from '../pipeline.js';
import { cleanTmp, missingTasks, stagesUntil } from '../tasks.js';

const TASK_MAIN = fileURLToPath(new URL('../task-main.js', import.meta.url));

export interface SlurmOptions {
  partition?: string;
  cpusPerTask: number;
  memPerCpu: string;
  time: string;
  maxArrayParallel?: number;
  /** the cluster's MaxArraySize (array indices must stay below it; default 1001, Slurm's default) */
  maxArraySize?: number;
  sbatchArgs: string[];
  /** wait for the last job and check every completion marker (default true) */
  wait?: boolean;
  pollMs?: number;
  env?: NodeJS.ProcessEnv;
  /** last stage to run (default: all) */
  until?: StageName;
}

export interface SubmittedJob { stage: string; jobId: string; tasks: number[] }

/** "0-3,5,7-9" for [0,1,2,3,5,7,8,9] */
export function arraySpec(ts: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ts.length;) {
    let j = i;
    while (j + 1 < ts.length && ts[j + 1] === ts[j] + 1) j++;
    out.push(i === j ? `${ts[i]}` : `${ts[i]}-${ts[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * Splits a stage's missing tasks into job arrays whose indices stay below maxArraySize: each chunk
 * covers tasks [base, base + maxArraySize) and its jobs run task base + $SLURM_ARRAY_TASK_ID.
 */
export function arrayChunks(ts: readonly number[], maxArraySize = 1001): Array<{ base: number; indices: number[] }> {
  const out: Array<{ base: number; indices: number[] }> = [];
  for (const t of ts) {
    const base = Math.floor(t / maxArraySize) * maxArraySize;
    if (!out.length || out[out.length - 1].base !== base) out.push({ base, indices: [] });
    out[out.length - 1].indices.push(t - base);
  }
  return out;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (is Slurm installed and on PATH?)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

export function submitPipeline(p: Pipeline, o: SlurmOptions): SubmittedJob[] {
  if (!p.file) throw new Error('slurm executor: the pipeline needs a file (jobs load it by path)');
  cleanTmp(p);
  const logs = join(p.workDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const jobs: SubmittedJob[] = [];
  let deps: string[] = [];
  for (const st of stagesUntil(p, o.until)) {
    const todo = missingTasks(p, st.name);
    if (!todo.length) continue;
    const ids: string[] = [];
    for (const chunk of arrayChunks(todo, o.maxArraySize)) {
      const args: string[] = [
        '--parsable', `--job-name=dsllm-${p.config.name}-${st.name}`,
        `--array=${arraySpec(chunk.indices)}${o.maxArrayParallel ? `%${o.maxArrayParallel}` : ''}`,
        `--output=${join(logs, `${st.name}-%A_%a.log`)}`,
        `--cpus-per-task=${o.cpusPerTask}`, `--mem-per-cpu=${o.memPerCpu}`, `--time=${o.time}`,
        ...(o.partition ? [`--partition=${o.partition}`] : []),
        ...(deps.length ? [`--dependency=afterok:${deps.join(':')}`] : []),
        ...o.sbatchArgs,
        `--wrap=exec ${q(process.execPath)} ${q(TASK_MAIN)} ${q(p.file)} ${st.name} "$((SLURM_ARRAY_TASK_ID + ${chunk.base}))"`,
      ];
      const jobId: string = run('sbatch', args, o.env).split(';')[0];
      if (!/^\d+$/.test(jobId)) throw new Error(`sbatch returned '${jobId}', expected a job id`);
      jobs.push({ stage: st.name, jobId, tasks: chunk.indices.map((i) => i + chunk.base) });
      ids.push(jobId);
    }
    deps = ids;
  }
  return jobs;
}

/** Jobs of `ids` still known to squeue (pending, running or completing). */
export function activeJobs(ids: readonly string[], env?: NodeJS.ProcessEnv): string[] {
  if (!ids.length) return [];
  const out = run('squeue', ['-h', '-o', '%F', '-j', ids.join(',')], env);
  return [...new Set(out.split('\n').map((s) => s.trim()).filter(Boolean))];
}

export async function runSlurm(p: Pipeline, o: SlurmOptions, log: (s: string) => void = (s) => process.stderr.write(s)): Promise<SubmittedJob[]> {
  const jobs = submitPipeline(p, o);
  for (const j of jobs) log(`slurm: ${j.stage}: job ${j.jobId}, array ${arraySpec(j.tasks)}\n`);
  if (!jobs.length) { log('slurm: every task is complete, nothing submitted\n'); return jobs; }
  if (o.wait === false) return jobs;
  const ids = jobs.map((j) => j.jobId);
  let last = '';
  for (;;) {
    let active: string[];
    try { active = activeJobs(ids, o.env); } catch { active = ids; }  // a transient squeue error: poll again
    const status = stagesUntil(p, o.until).map((s) => `${s.name} ${s.tasks - missingTasks(p, s.name).length}/${s.tasks}`).join(' · ');
    if (status !== last) { log(`slurm: ${status}\n`); last = status; }
    if (!active.length) break;
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
  const missing = stagesUntil(p, o.until).flatMap((s) => missingTasks(p, s.name).map((t) => `${s.name}/${t}`));
  if (missing.length) throw new Error(`slurm: jobs ended with tasks incomplete (${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}); see ${join(p.workDir, 'logs')} and relaunch`);
  return jobs;
}
