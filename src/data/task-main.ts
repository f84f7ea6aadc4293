#!/usr/bin/env node
// Runs one task in its own process: `node task-main.js <pipeline.yaml> <stage> <task>`. The local
// executor forks it; Slurm array jobs run it with $SLURM_ARRAY_TASK_ID. Exit 0 = done (or already done).
import { loadPipeline, type StageName } from './pipeline.js';
import { runTask } from './tasks.js';

async function main(): Promise<void> {
  const [file, stage, task] = process.argv.slice(2);
  const t = Number(task);
  if (!file || !stage || !Number.isInteger(t) || t < 0) throw new Error('usage: task-main <pipeline.yaml> <stage> <task index>');
  await runTask(loadPipeline(file), stage as StageName, t);
}

main().catch((e) => {
  process.stderr.write(`dsllm data task ${process.argv.slice(3).join(' ')}: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env.DSLLM_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
