// Remixing: target proportions per domain (or source), reached by down-sampling and up-sampling
// (repeating) documents. Deterministic given a seed ("deterministic randomization", DeepSeek LLM
// README §4): document d with factor f gets floor(f) copies plus one more when u(seed, d.id) <
// frac(f), where u is a hash of the seed and the id in [0, 1) — independent of order and task split.
import { createHash } from 'node:crypto';

export interface RemixConfig {
  /** group documents by `domain` (default) or `source` */
  by: 'domain' | 'source';
  /** what the proportions measure: bytes of text (default) or documents */
  unit: 'bytes' | 'docs';
  /** target share per group; normalized to sum 1 */
  targets: Record<string, number>;
  /** total size after remixing in `unit`; default: the total before */
  total?: number;
  seed: number;
}

/** uniform in [0, 1) from (seed, salt, id): 52 bits of an MD5 */
export function hash01(seed: number, salt: string, id: string): number {
  const h = createHash('md5').update(`${seed}\u0000${salt}\u0000${id}`).digest();
  return (h.readUInt32LE(0) * 1048576 + (h.readUInt32LE(4) >>> 12)) / 4503599627370496;
}

export interface RemixPlan {
  factor: Record<string, number>;
  before: Record<string, number>;
  target: Record<string, number>;
}

/** Sampling factor per group so that group sizes become targets × total. */
export function planRemix(sizes: Record<string, number>, c: Pick<RemixConfig, 'targets' | 'total'>): RemixPlan {
  const groups = Object.keys(sizes).filter((g) => sizes[g] > 0);
  const missing = groups.filter((g) => !(g in c.targets));
  if (missing.length) throw new Error(`remix: groups ${missing.join(', ')} have data but no target (targets: ${Object.keys(c.targets).join(', ')}); give them a target, 0 to drop`);
  const sum = Object.values(c.targets).reduce((a, b) => a + b, 0);
  if (!(sum > 0) || Object.values(c.targets).some((v) => !(v >= 0))) throw new Error('remix: targets must be non-negative with a positive sum');
  const total = c.total ?? groups.reduce((a, g) => a + sizes[g], 0);
  const factor: Record<string, number> = {}, target: Record<string, number> = {};
  for (const [g, p] of Object.entries(c.targets)) {
    target[g] = (p / sum) * total;
    if (p > 0 && !(sizes[g] > 0)) throw new Error(`remix: group '${g}' has target ${p} but no data to sample from`);
    factor[g] = sizes[g] > 0 ? target[g] / sizes[g] : 0;
  }
  return { factor, before: { ...sizes }, target };
}

/** How many copies of document `id` a group factor gives. */
export function copiesOf(id: string, factor: number, seed: number): number {
  const whole = Math.floor(factor);
  return whole + (hash01(seed, 'remix', id) < factor - whole ? 1 : 0);
}
