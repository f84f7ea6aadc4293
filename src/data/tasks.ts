// Tasks and completion markers, as datatrove does: a task that finished writes an empty marker
// `<workDir>/completions/<stage>/<task>` after all its outputs are in place; a relaunch runs only the
// tasks without a marker. Outputs are written atomically, so a killed task leaves nothing a rerun trusts.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { stagesOf, type Pipeline, type StageName } from './pipeline.js';
import { pad, runStageTask } from './stages.js';

export function markerPath(p: Pipeline, stage: StageName, t: number): string {
  return join(p.workDir, 'completions', stage, pad(t));
}

export function isDone(p: Pipeline, stage: StageName, t: number): boolean {
  return existsSync(markerPath(p, stage, t));
}

/** Tasks of a stage that have no completion marker. */
export function missingTasks(p: Pipeline, stage: StageName): number[] {
  const info = stagesOf(p).find((s) => s.name === stage);
  if (!info) throw new Error(`pipeline has no stage '${stage}' (stages: ${stagesOf(p).map((s) => s.name).join(', ')})`);
  const dir = join(p.workDir, 'completions', stage);
  const done = new Set(existsSync(dir) ? readdirSync(dir) : []);
  const out: number[] = [];
  for (let t = 0; t < info.tasks; t++) if (!done.has(pad(t))) out.push(t);
  return out;
}

/** Removes temporary files a killed writer may have left in a stage folder. */
function sweepTmp(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (/\.tmp-\d+$/.test(f)) rmSync(join(dir, f), { force: true });
}

/**
 * Runs task t of a stage unless it is already complete; returns false when it was skipped.
 * @example await runTask(loadPipeline('pipeline.yaml'), 'filter', 3)
 */
export async function runTask(p: Pipeline, stage: StageName, t: number): Promise<boolean> {
  if (isDone(p, stage, t)) return false;
  const deps = stagesOf(p);
  const at = deps.findIndex((s) => s.name === stage);
  for (const prev of deps.slice(0, at)) {
    const miss = missingTasks(p, prev.name);
    if (miss.length) throw new Error(`stage ${stage} task ${t}: stage ${prev.name} is not complete (tasks ${miss.slice(0, 10).join(', ')}${miss.length > 10 ? ', …' : ''} missing)`);
  }
  mkdirSync(join(p.workDir, 'completions', stage), { recursive: true });
  const delay = Number(process.env.DSLLM_DATA_TASK_DELAY_MS ?? 0);  // test hook: widens the window a kill can land in
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  await runStageTask(p, stage, t);
  writeFileAtomic(markerPath(p, stage, t), '');
  return true;
}

export function cleanTmp(p: Pipeline): void {
  for (const s of ['read', 'dedup', 'filter', 'remix', 'shards', '.']) sweepTmp(join(p.workDir, s));
}

/** The pipeline's stages up to and including `until` (all when undefined). */
export function stagesUntil(p: Pipeline, until?: StageName): ReturnType<typeof stagesOf> {
  const all = stagesOf(p);
  if (!until) return all;
  const i = all.findIndex((s) => s.name === until);
  if (i < 0) throw new Error(`this pipeline has no '${until}' stage (stages: ${all.map((s) => s.name).join(', ')}); enable it in the pipeline file`);
  return all.slice(0, i + 1);
}
