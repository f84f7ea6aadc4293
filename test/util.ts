// Shared test helpers: seeded random buffers, error measures and finite differences.
import assert from 'node:assert/strict';
import { Rng } from '../src/util/rng.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export { Rng };

export function randn(rng: Rng, n: number, std = 1): Float32Array {
  return rng.fillNormal(new Float32Array(n), std);
}

export function randIds(rng: Rng, n: number, vocab: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(vocab);
  return out;
}

/** max |a−b| / max(max|b|, tiny): one number for a whole tensor, robust to near-zero entries */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'relErr: length mismatch');
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  if (Number.isNaN(num)) return Infinity;
  return num / Math.max(den, 1e-30);
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const e = relErr(actual, expected);
  assert.ok(e <= tol, `${what}: relative error ${e.toExponential(3)} > ${tol.toExponential(1)}`);
}

/**
 * Central finite differences of a scalar function f over `x` (perturbed in place, in float64 math
 * on a float32 buffer), checked at `samples` random coordinates against the analytic gradient.
 */
export function checkGradient(
  what: string, x: Float32Array, analytic: ArrayLike<number>, f: () => number,
  opts: { rng: Rng; samples?: number; h?: number; tol?: number },
): void {
  const samples = Math.min(opts.samples ?? 12, x.length);
  const h = opts.h ?? 1e-2;
  const tol = opts.tol ?? 2e-2;
  let gmax = 0;
  for (let i = 0; i < analytic.length; i++) gmax = Math.max(gmax, Math.abs(analytic[i]));
  for (let s = 0; s < samples; s++) {
    const i = opts.rng.int(x.length);
    const x0 = x[i];
    x[i] = x0 + h; const fp = f();
    x[i] = x0 - h; const fm = f();
    x[i] = x0;
    const numeric = (fp - fm) / (2 * h);
    const err = Math.abs(numeric - analytic[i]) / Math.max(Math.abs(numeric), Math.abs(analytic[i]), 1e-3 * gmax, 1e-6);
    assert.ok(err <= tol, `${what}: d/dx[${i}] analytic ${analytic[i]} vs numeric ${numeric} (rel ${err.toExponential(2)} > ${tol})`);
  }
}

/** f64 dot of a buffer with fixed random weights: a scalar loss whose gradient is the weights */
export function weightedSum(x: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * w[i];
  return s;
}

/** a path under ../shared (found by walking up from the compiled test), or null when absent */
export function sharedPath(...parts: string[]): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 7; i++) {
    const cand = join(dir, 'shared', ...parts);
    const cand2 = join(dir, '..', 'shared', ...parts);
    if (existsSync(cand2)) return cand2;
    if (existsSync(cand)) return cand;
    dir = dirname(dir);
  }
  return null;
}

/**
 * Collects garbage until the native allocator's live bytes stop changing: tensors earlier tests
 * dropped without freeing go back when V8 collects them, possibly in the middle of a test that
 * compares absolute live bytes. The store's deleter may run on a GC thread, hence the waits.
 */
export async function settleNativeMemory(liveBytes: () => number): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let last = -1;
  for (let tries = 0; tries < 50; tries++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
    const now = liveBytes();
    if (now === last) return;
    last = now;
  }
}
