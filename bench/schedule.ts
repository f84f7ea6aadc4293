// Multi-step vs cosine on the same budget (DeepSeek LLM §2.3, Fig. 1a: final losses essentially equal).
// A small byte-level model on ../shared/data/corpus/en/tinyshakespeare.txt, same seed, same data order
// (the window sampler's RNG is independent of the schedule), same peak LR and warmup; cosine decays to
// 10% of the peak, where multi-step ends. Reports both final validation losses and their ratio, and
// plots both curves into one SVG (bench-out/schedule/schedule.svg).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { emit, note, repoPath, type BenchOptions } from './common.js';
import { finalVal, loadAverage, readLog } from './run-log.js';
import { selectBackend } from '../src/backends/select.js';
import { train, writePlot } from '../src/train/trainer.js';
import { validateConfig } from '../src/nn/config.js';
import { lineChart } from '../src/util/svg-plot.js';
import { sharedDataPath } from './learning.js';

export async function run(opts: BenchOptions): Promise<void> {
  await selectBackend();
  const corpus = sharedDataPath('corpus', 'en', 'tinyshakespeare.txt');
  if (!corpus) { note('schedule: skipped, ../shared/data/corpus/en/tinyshakespeare.txt not found', opts); return; }
  const out = repoPath('bench-out', 'schedule');
  mkdirSync(out, { recursive: true });
  const steps = opts.quick ? 60 : 600;
  const config = validateConfig({
    vocab_size: 257, hidden_size: 128, intermediate_size: 384, num_hidden_layers: 4, num_attention_heads: 4,
    num_key_value_heads: 4, max_position_embeddings: 128, initializer_range: 0.006,
  });
  const runs: Record<string, ReturnType<typeof readLog>> = {};
  for (const schedule of ['multistep', 'cosine'] as const) {
    const dir = join(out, schedule);
    rmSync(dir, { recursive: true, force: true });
    const t0 = Date.now();
    train({
      config, data: [corpus], out: dir, schedule, steps, batch: 16, seqLen: 128, lr: 3e-3, warmup: Math.round(steps * 0.05),
      evalEvery: Math.max(1, Math.round(steps / 16)), evalBatches: 16, seed: 1337, quiet: true, checkpointMinutes: 1e9,
    });
    runs[schedule] = readLog(join(dir, 'log.jsonl'));
    note(`schedule: ${schedule} ${steps} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s (load ${loadAverage()})`, opts);
  }
  const m = finalVal(runs.multistep), c = finalVal(runs.cosine);
  const series = (name: string, key: 'val_loss' | 'loss', dashed: boolean) => {
    const r = runs[name].filter((x) => x[key] !== undefined);
    return { name: `${name} ${key === 'loss' ? 'train' : 'validation'}`, x: r.map((x) => x.step), y: r.map((x) => x[key]!), dashed, color: name === 'cosine' ? '#d62728' : '#1f77b4' };
  };
  const svg = join(out, 'schedule.svg');
  writePlot(svg, lineChart([series('multistep', 'val_loss', false), series('cosine', 'val_loss', false), series('multistep', 'loss', true), series('cosine', 'loss', true)],
    { title: `multi-step vs cosine, ${steps} steps × ${16 * 128} tokens (validation solid, train dashed)`, xLabel: 'step', yLabel: 'loss (nats/byte)' }));
  writePlot(join(out, 'lr.svg'), lineChart([
    { name: 'multistep', x: runs.multistep.map((x) => x.step), y: runs.multistep.map((x) => x.lr) },
    { name: 'cosine', x: runs.cosine.map((x) => x.step), y: runs.cosine.map((x) => x.lr) },
  ], { title: 'learning rate', xLabel: 'step', yLabel: 'lr' }));
  emit({
    suite: 'schedule', case: `multistep-vs-cosine-${steps}`, metric: 'final validation loss', unit: 'nats/B', ours: m.loss, peer: 'cosine', peer_value: c.loss,
    ratio: m.loss / c.loss, reps: 1, spread: null, note: `multistep ${m.loss.toFixed(4)} vs cosine ${c.loss.toFixed(4)} nats/byte; bar: within 1% (paper Fig. 1a); |Δ| = ${(Math.abs(m.loss / c.loss - 1) * 100).toFixed(2)}%; curves ${svg}; load ${loadAverage()}`,
  }, opts);
}
