// Local executor: a pool of worker processes, stage after stage; each stage runs only its tasks
// without a completion marker, so a relaunch after a kill picks up where the run stopped.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stagesOf, type Pipeline, type StageName } from '../pipeline.js';
import { cleanTmp, missingTasks, stagesUntil } from '../tasks.js';
import { Progress } from './progress.js';

const TASK_MAIN = fileURLToPath(new URL('../task-main.js', import.meta.url));

function runChild(p: Pipeline, stage: string, t: number): Promise<void> {
  return new Promise((res, rej) => {
    const child = fork(TASK_MAIN, [p.file, stage, String(t)], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', rej);
    child.on('exit', (code, sig) => (code === 0 ? res() : rej(new Error(err.trim() || `stage ${stage} task ${t} exited with ${sig ?? code}`))));
  });
}

export interface RunSummary { ran: Record<string, number>; skipped: Record<string, number>; seconds: number }

/** Runs every missing task of every stage with `workers` processes. Needs a pipeline file (p.file). */
export async function runLocal(p: Pipeline, workers: number, log: (s: string) => void = (s) => process.stderr.write(s), until?: StageName): Promise<RunSummary> {
  if (!p.file) throw new Error('local executor: the pipeline needs a file (workers load it by path)');
  cleanTmp(p);
  const t0 = performance.now();
  const sum: RunSummary = { ran: {}, skipped: {}, seconds: 0 };
  for (const st of stagesUntil(p, until)) {
    const todo = missingTasks(p, st.name);
    sum.ran[st.name] = todo.length; sum.skipped[st.name] = st.tasks - todo.length;
    const prog = new Progress(st.name, st.tasks, st.tasks - todo.length, log);
    let next = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (next < todo.length && !failures.length) {
        const t = todo[next++];
        try { await runChild(p, st.name, t); prog.done(); } catch (e) { failures.push(`task ${t}: ${(e as Error).message}`); }
      }
    };
    await Promise.all(Array.from({ length: Math.min(workers, Math.max(todo.length, 1)) }, worker));
    prog.end();
    if (failures.length) throw new Error(`stage ${st.name} failed: ${failures.join('; ')}. Fix the cause and relaunch: finished tasks are kept.`);
  }
  sum.seconds = (performance.now() - t0) / 1000;
  return sum;
}
