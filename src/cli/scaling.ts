// `dsllm scaling`: the paper's scaling-law toolkit (src/scaling/): plan a run from a compute
// budget, FLOPs/token representations, sweeps (batch × LR grid, IsoFLOP profiles), fits + report,
// and verify a prediction by training it.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { selectBackend } from '../backends/select.js';
import { loadConfig } from '../nn/config.js';
import { plan, formatPlan } from '../scaling/plan.js';
import { flopsRow, table3 } from '../scaling/flops.js';
import { DATA_PRESETS, type DataPreset } from '../scaling/laws.js';
import { expandRuns, loadSpec } from '../scaling/spec.js';
import { reuseChains, runSweep } from '../scaling/sweep.js';
import { writeReport } from '../scaling/report.js';
import { verifySweep } from '../scaling/verify.js';
import { planForHours } from '../scaling/measure.js';
import { UserError } from './errors.js';

const num = (v: string) => { const n = Number(v); if (!Number.isFinite(n) || n <= 0) throw new UserError(`expected a positive number, got "${v}"`); return n; };
const int = (v: string) => { const n = Number(v); if (!Number.isInteger(n) || n <= 0) throw new UserError(`expected a positive integer, got "${v}"`); return n; };
const say = (s: string) => process.stderr.write(s + '\n');

function budget(o: { compute?: number; cpuHours?: number; gpuHours?: number; throughput?: number; config?: string; tokens?: number; flops?: string; seq: number }): number {
  const given = [o.compute !== undefined, o.cpuHours !== undefined || o.gpuHours !== undefined, o.config !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UserError('give one budget: --compute C, or --cpu-hours/--gpu-hours H with --throughput, or --config with --tokens');
  if (o.compute !== undefined) return o.compute;
  if (o.config !== undefined) {
    if (o.tokens === undefined) throw new UserError('--config needs --tokens D (C = M·D)');
    const r = flopsRow(loadConfig(o.config), o.seq);
    if (o.flops !== 'paper' && o.flops !== 'exact') throw new UserError(`--flops must be paper or exact, got "${o.flops}"`);
    return (o.flops === 'exact' ? r.M_exact : r.M) * o.tokens;
  }
  if (o.throughput === undefined) throw new UserError('--cpu-hours/--gpu-hours need --throughput: sustained FLOP/s counted as M × tokens/s (measure it with dsllm train, e.g. tok/s × M)');
  return (o.cpuHours ?? o.gpuHours ?? 0) * 3600 * o.throughput;
}

export function registerScaling(program: Command): void {
  const sc = program.command('scaling').description('scaling laws (paper §3): plan a run for a compute budget, sweep, fit, report, verify');

  sc.command('plan')
    .description('η_opt, B_opt, M_opt, D_opt and a model shape, steps, warmup and LR drops for a compute budget')
    .option('--compute <flops>', 'compute budget C = M·D in FLOPs', num)
    .option('--cpu-hours <h>', 'budget in CPU hours (with --throughput)', num)
    .option('--gpu-hours <h>', 'budget in GPU hours (with --throughput)', num)
    .option('--throughput <flops>', 'sustained FLOP/s (M × tokens/s) of the machine', num)
    .option('--measure', 'with --cpu-hours: measure the throughput by timing a few training steps of the planned model here')
    .option('--config <spec>', 'budget of an existing model: preset or config.json, with --tokens')
    .option('--tokens <n>', 'training tokens D for --config', num)
    .option('--flops <m>', 'M of --config: paper (72nd² + 12ndl) or exact (6 × non-embedding params + 12ndl)', 'paper')
    .option('--exponents <a,b>', 'allocation exponents a (M_opt ∝ C^a), b (D_opt ∝ C^b)')
    .option('--data <preset>', `data quality preset (Table 4): ${Object.keys(DATA_PRESETS).join(', ')}`)
    .option('--seq <n>', 'sequence length', int, 4096)
    .option('--vocab <n>', 'vocabulary size', int, 102400)
    .option('--json', 'print JSON')
    .action(async (o) => {
      let exponents: { a: number; b: number } | undefined;
      if (o.exponents !== undefined) {
        const parts = String(o.exponents).split(',').map(Number);
        if (parts.length !== 2 || !parts.every((v) => Number.isFinite(v) && v > 0 && v < 1)) throw new UserError(`--exponents must be "a,b" with 0 < a, b < 1, got "${o.exponents}"`);
        exponents = { a: parts[0], b: parts[1] };
      }
      if (o.data !== undefined && !(o.data in DATA_PRESETS)) throw new UserError(`--data must be one of ${Object.keys(DATA_PRESETS).join(', ')}, got "${o.data}"`);
      const base = { seqLen: o.seq, vocab: o.vocab, exponents, data: o.data as DataPreset | undefined };
      if (o.measure) {
        if (o.cpuHours === undefined || o.throughput !== undefined) throw new UserError('--measure goes with --cpu-hours (and no --throughput)');
        await selectBackend();
        const r = planForHours(o.cpuHours, base, 5e9, say);
        process.stdout.write(o.json ? JSON.stringify({ ...r.plan, throughput: r.throughput }, null, 2) + '\n' : formatPlan(r.plan) + `\nmeasured: ${r.throughput.flops_per_s.toExponential(3)} FLOP/s (${Math.round(r.throughput.tokens_per_s)} tokens/s) here\n`);
        return;
      }
      const p = plan({ compute: budget(o), ...base });
      process.stdout.write(o.json ? JSON.stringify(p, null, 2) + '\n' : formatPlan(p) + '\n');
    });

  sc.command('flops')
    .description('FLOPs/token representations (M, 6N1, 6N2, exact) of a model, or the paper\'s Table 3')
    .option('--config <spec>', 'preset or config.json (default: the shapes of Table 3)')
    .option('--seq <n>', 'sequence length', int, 4096)
    .option('--json', 'print JSON')
    .action((o) => {
      const rows = o.config ? [flopsRow(loadConfig(o.config), o.seq)] : table3(102400, o.seq);
      if (o.json) { process.stdout.write(JSON.stringify(rows, null, 2) + '\n'); return; }
      const e = (v: number) => v.toExponential(3);
      process.stdout.write('n_layer d_model        N1        N2         M  6N1/M  6N2/M   M_exact\n');
      for (const r of rows) process.stdout.write(`${String(r.n_layer).padStart(7)} ${String(r.d_model).padStart(7)} ${e(r.N1)} ${e(r.N2)} ${e(r.M)} ${r.ratio_6N1_M.toFixed(3).padStart(6)} ${r.ratio_6N2_M.toFixed(3).padStart(6)} ${e(r.M_exact)}\n`);
    });

  sc.command('sweep')
    .description('run a sweep spec (YAML/JSON): batch × LR grid and/or IsoFLOP profiles; cached per run, resumable; then the report')
    .argument('<spec>', 'sweep spec file')
    .option('-o, --out <dir>', 'sweep directory (runs/<id>/result.json, results.jsonl, report.md, figures)')
    .option('-j, --jobs <n>', 'parallel runs (default: spec, else the core count)', int)
    .option('--retry-failed', 'train failed runs again instead of keeping their cached failure')
    .option('--no-report', 'skip the fits and report')
    .option('--data <paths...>', 'text files or directories to train on instead of the spec\'s "data"')
    .option('--dry-run', 'list the runs (budget, shape, M, tokens, steps, batch, η) and their total without training')
    .action(async (file: string, o) => {
      const spec = loadSpec(file);
      if (o.data) spec.data = (o.data as string[]).map((p) => resolve(p));
      if (o.dryRun) {
        const jobs = expandRuns(spec);
        for (const j of jobs) process.stdout.write(`${j.id}\tM=${j.M.toExponential(2)}\ttokens=${j.tokens}\tsteps=${j.steps}\tbatch=${j.batch_seqs}x${j.seq_len}\tlr=${j.lr.toExponential(2)}\n`);
        const chains = reuseChains(jobs);
        const saved = jobs.length - chains.length;
        process.stdout.write(`${jobs.length} runs, ${jobs.reduce((a, j) => a + j.tokens, 0)} training tokens, ${jobs.reduce((a, j) => a + j.tokens * j.M, 0).toExponential(3)} FLOPs (M·D)${saved ? `; ${saved} runs continue a shorter run's first LR stage` : ''}\n`);
        return;
      }
      const out = o.out ?? `runs/scaling-${spec.name}`;
      await selectBackend();
      const s = await runSweep(spec, { out, jobs: o.jobs, retryFailed: o.retryFailed, log: say });
      say(`sweep done: ${s.runs.length} runs (${s.trained} trained, ${s.cached} cached, ${s.failed} failed) in ${s.wall_s.toFixed(1)} s → ${s.out}`);
      if (o.report) {
        const r = writeReport(s.out);
        say(`report: ${s.out}/report.md (${r.files.length} files)`);
      }
    });

  sc.command('report')
    .description('fit a finished sweep (near-optimal η/B laws, IsoFLOP M_opt/D_opt, loss vs compute) and write fits.json, figures, report.md')
    .argument('<dir>', 'sweep directory')
    .option('--predict-factor <k>', 'predict bits-per-byte at k × the largest IsoFLOP budget', num, 4)
    .option('--json', 'print the fits as JSON')
    .action((dir: string, o) => {
      const r = writeReport(dir, o.predictFactor);
      if (o.json) process.stdout.write(JSON.stringify(r.fits, null, 2) + '\n');
      else process.stdout.write(r.files.join('\n') + '\n');
    });

  sc.command('verify')
    .description('train the budget the sweep predicts (fitted M_opt shape, η, B) and report predicted vs actual bits-per-byte')
    .argument('<dir>', 'sweep directory')
    .option('--compute <flops>', 'budget to verify (default: --factor × the largest IsoFLOP budget)', num)
    .option('--factor <k>', 'multiple of the largest IsoFLOP budget', num, 4)
    .option('--hyper <h>', 'η and B: isoflop (the rule the IsoFLOP runs used) or fitted (the grid\'s η_opt(C), B_opt(C))', 'isoflop')
    .action(async (dir: string, o) => {
      if (o.hyper !== 'isoflop' && o.hyper !== 'fitted') throw new UserError(`--hyper must be isoflop or fitted, got "${o.hyper}"`);
      await selectBackend();
      const v = await verifySweep(dir, { compute: o.compute, factor: o.factor, hyper: o.hyper, log: say });
      process.stdout.write(JSON.stringify({ compute: v.compute, predicted_bpb: v.predicted.bpb, interval: [v.predicted.lo, v.predicted.hi], actual_bpb: v.actual_bpb, rel_error: v.rel_error,
        predicted_at_minimum_bpb: v.predicted_at_minimum?.bpb ?? null, rel_error_at_minimum: v.rel_error_at_minimum ?? null, run: v.run.id, ...(v.run.reason ? { reason: v.run.reason } : {}) }) + '\n');
    });
}
