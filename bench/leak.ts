// RSS over 1,000 training steps of nano: flat (±5% of the value after warm-up) means no leak.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { emit, note, type BenchOptions } from './common.js';

export async function run(opts: BenchOptions): Promise<void> {
  const steps = opts.quick ? 200 : 1000;
  const worker = join(dirname(fileURLToPath(import.meta.url)), 'train-worker.js');
  const r = spawnSync(process.execPath, [worker, 'nano', 'f32', 'train', String(steps), '0'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) { note(`leak: worker failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`, opts); return; }
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rss_mib: number[] };
  const base = j.rss_mib[Math.min(20, j.rss_mib.length - 1)];
  const later = j.rss_mib.slice(20);
  const dev = Math.max(...later.map((x) => Math.abs(x - base) / base));
  emit({
    suite: 'leak', case: `nano-${steps}-steps`, metric: 'max RSS deviation after step 20', unit: '%', ours: dev * 100,
    peer: null, peer_value: null, ratio: null, reps: 1, spread: null,
    note: `RSS step 20 ${base.toFixed(0)} MiB, last ${j.rss_mib[j.rss_mib.length - 1].toFixed(0)} MiB, bar ±5%`,
  }, opts);
}
