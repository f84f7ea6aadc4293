// Training and forward throughput against PyTorch (../shared/bench/peers/bench_train.py), same
// presets, same batch shapes, run one after the other in this run; tokens/s, MFU and peak RSS.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { emit, median, note, peersDir, pythonHas, runPython, spreadOf, type BenchOptions } from './common.js';
import { flopsPerToken, loadConfig } from '../src/nn/config.js';

/** theoretical peaks of this machine (BENCH.md): 2 cores × 2 FMA × 16 lanes × 2 × 3.7 GHz; bf16 doubles it */
const PEAK = { f32: 475e9, bf16: 950e9 };

function ours(preset: string, dtype: string, mode: string, steps: number): { tokps: number[]; rss: number } | { error: string } {
  const worker = join(dirname(fileURLToPath(import.meta.url)), 'train-worker.js');
  const r = spawnSync(process.execPath, [worker, preset, dtype, mode, String(steps), '2'], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) return { error: (r.stderr || '').trim().split('\n').slice(-2).join(' | ') };
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { tokps: (j.times as number[]).map((t) => j.tokens_per_step / t), rss: j.peak_rss_mib };
}

export async function runSuite(opts: BenchOptions, mode: 'train' | 'forward'): Promise<void> {
  const presets = opts.quick ? ['nano'] : ['nano', 'micro', 'small'];
  const peers = peersDir();
  const haveTorch = peers !== null && pythonHas('torch');
  if (!haveTorch) note(`${mode}: torch peer skipped (${peers ? 'python3-torch not installed: apt-get install python3-torch libopenblas0-pthread' : '../shared/bench/peers not found'})`, opts);
  for (const preset of presets) {
    for (const dtype of ['f32', 'bf16'] as const) {
      const name = `${preset}-${dtype}`;
      if (opts.cases.length && !opts.cases.includes(name)) continue;
      const steps = preset === 'small' ? 3 : opts.reps;
      const r = ours(preset, dtype, mode, steps);
      if ('error' in r) { note(`${mode} ${name}: ours failed: ${r.error}`, opts); continue; }
      const c = loadConfig(preset);
      const f = flopsPerToken(c);
      const fpt = mode === 'train' ? f.train_exact : f.forward_exact;
      const med = median(r.tokps);
      let peerValue: number | null = null, peerRss: number | null = null;
      if (haveTorch) {
        const env: Record<string, string> = { OPENBLAS_CORETYPE: 'SkylakeX' };
        if (dtype === 'f32') env.OMP_WAIT_POLICY = 'PASSIVE';
        const args = ['bench_train.py', preset, '--steps', String(steps), '--warmup', '2'];
        if (dtype === 'bf16') args.push('--bf16');
        if (mode === 'forward') args.push('--forward');
        // small: ~40 s a step for torch here (bf16), 5 steps with warm-up; 10 minutes is too tight
        const p = runPython(args, env, peers!, preset === 'small' ? 1_800_000 : 600_000);
        if (p.ok && p.lines.length) {
          const j = p.lines[p.lines.length - 1] as { tok_per_s_median: number; peak_rss_mib: number };
          peerValue = j.tok_per_s_median; peerRss = j.peak_rss_mib;
        } else note(`${mode} ${name}: torch failed: ${p.error}`, opts);
      }
      const mfu = (med * fpt) / PEAK[dtype];
      emit({
        suite: mode, case: name, metric: 'tokens/s', unit: 'tok/s', ours: med, peer: peerValue === null ? null : 'torch-1.13',
        peer_value: peerValue, ratio: peerValue ? med / peerValue : null, reps: r.tokps.length, spread: spreadOf(r.tokps),
        note: `MFU ${(mfu * 100).toFixed(0)}% of ${PEAK[dtype] / 1e9} GFLOP/s; RSS ${r.rss.toFixed(0)} MiB${peerRss ? ` vs torch ${peerRss.toFixed(0)}` : ''}`,
      }, opts);
    }
  }
}

export const run = (opts: BenchOptions) => runSuite(opts, 'train');
