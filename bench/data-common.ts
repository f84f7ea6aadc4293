// Shared by the data benches: where ../shared/data is, and its corpora split into documents.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function sharedData(): string | null {
  if (process.env.DSLLM_SHARED) return join(process.env.DSLLM_SHARED, 'data');
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const cand = resolve(dir, '..', 'shared', 'data');
    if (existsSync(join(cand, 'corpus'))) return cand;
    dir = dirname(dir);
  }
  return null;
}

/** en: TinyStories stories + Shakespeare in 2 kB pieces (≈3.2 MB); zh: Tang poems + Song ci, one per line (≈3.6 MB) */
export function corpusDocs(data: string, lang: 'en' | 'zh'): string[] {
  if (lang === 'en') {
    const stories = readFileSync(join(data, 'corpus/en/tinystories_sample.txt'), 'utf8').split('<|endoftext|>').map((s) => s.trim()).filter(Boolean);
    const sh = readFileSync(join(data, 'corpus/en/tinyshakespeare.txt'), 'utf8');
    const pieces: string[] = [];
    for (let i = 0; i < sh.length; i += 2000) pieces.push(sh.slice(i, i + 2000));
    return stories.concat(pieces);
  }
  return ['corpus/zh/tang_poems.txt', 'corpus/zh/song_ci.txt'].flatMap((f) => readFileSync(join(data, f), 'utf8').split('\n').filter(Boolean));
}

/**
 * Runs fn `warmup` + `reps` times; returns CPU seconds (user + system, all threads of this process) and
 * wall seconds per rep. MB per CPU-second is "MB/s per core" that a busy shared machine does not skew
 * the way wall time is skewed (BENCH.md: the machines here are shared and noisy).
 */
export async function cpuReps(fn: () => void | Promise<void>, reps: number, warmup = 1): Promise<{ cpu: number[]; wall: number[] }> {
  for (let i = 0; i < warmup; i++) await fn();
  const cpu: number[] = [], wall: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage(), t0 = performance.now();
    await fn();
    const c = process.cpuUsage(c0);
    wall.push((performance.now() - t0) / 1000);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { cpu, wall };
}
