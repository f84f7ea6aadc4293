// `dsllm data dedup|filter|remix|tokenize|run <pipeline.yaml>`: runs the pipeline up to that stage
// (earlier stages first when they are missing; finished tasks are never run again), then prints the
// Markdown report. `dsllm data task <pipeline.yaml> <stage> <i>` runs one task by hand.
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLocal } from '../data/executors/local.js';
import { runSlurm } from '../data/executors/slurm.js';
import { loadPipeline, type Pipeline, type StageName } from '../data/pipeline.js';
import { collectReport, renderMarkdown, writeReport } from '../data/report.js';
import { runTask } from '../data/tasks.js';

interface RunFlags { executor?: string; workers?: string; noWait?: boolean }

async function runUntil(file: string, until: StageName | undefined, flags: RunFlags): Promise<void> {
  const p: Pipeline = loadPipeline(file);
  const ex = p.config.executor;
  const kind = flags.executor ?? ex.type;
  if (kind === 'slurm') {
    const so = ex.type === 'slurm' ? ex : { cpusPerTask: 1, memPerCpu: '2G', time: '1:00:00', sbatchArgs: [] as string[] };
    await runSlurm(p, { ...so, until, wait: !flags.noWait });
    if (flags.noWait) return;
  } else if (kind === 'local') {
    const workers = flags.workers ? Number(flags.workers) : ex.type === 'local' ? ex.workers : 2;
    if (!(Number.isInteger(workers) && workers >= 1)) throw new Error(`--workers must be a positive integer, got ${flags.workers}`);
    const sum = await runLocal(p, workers, undefined, until);
    process.stderr.write(`done in ${sum.seconds.toFixed(1)} s (tasks run: ${Object.entries(sum.ran).map(([k, v]) => `${k} ${v}`).join(', ')})\n`);
  } else throw new Error(`--executor must be local or slurm, got '${kind}'`);
  const md = join(p.workDir, 'report.md');
  if (until !== undefined && until !== 'report') writeReport(p);
  process.stdout.write(existsSync(md) ? readFileSync(md, 'utf8') : renderMarkdown(collectReport(p)));
  process.stdout.write(`\n(report: ${md}, data: ${join(p.workDir, 'report.json')})\n`);
}

export function registerData(program: Command): void {
  const data = program.command('data').description('pretraining data pipeline: read, dedup across sources, filter, remix, tokenize to shards');
  const verbs: Array<[string, StageName | undefined, string]> = [
    ['dedup', 'dedup', 'read the inputs and remove exact and near duplicates across all sources (MinHash-LSH)'],
    ['filter', 'filter', 'dedup, then apply the quality filters (language, Gopher, C4, FineWeb)'],
    ['remix', 'remix', 'dedup and filter, then resample domains to the target proportions'],
    ['tokenize', 'tokenize', 'every stage through tokenization into train/validation shards'],
    ['run', undefined, 'the whole pipeline and its report'],
  ];
  for (const [name, until, desc] of verbs) {
    data.command(`${name} <pipeline>`).description(desc)
      .option('--executor <kind>', 'local or slurm (default: the pipeline file\'s executor)')
      .option('--workers <n>', 'local worker processes (default: the pipeline file\'s)')
      .option('--no-wait', 'slurm: submit and return without waiting')
      .action((file: string, flags: { executor?: string; workers?: string; wait?: boolean }) =>
        runUntil(file, until, { executor: flags.executor, workers: flags.workers, noWait: flags.wait === false }));
  }
  data.command('task <pipeline> <stage> <index>').description('run one task of one stage (what executors launch)')
    .action(async (file: string, stage: string, index: string) => {
      const ran = await runTask(loadPipeline(file), stage as StageName, Number(index));
      process.stderr.write(ran ? `${stage} task ${index}: done\n` : `${stage} task ${index}: already complete\n`);
    });
}
