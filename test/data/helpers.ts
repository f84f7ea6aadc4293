// Helpers for the data tests: where ../shared/data is, temp folders, small planted collections.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared (beside the repository, as in this workplace and in CI), or $DSLLM_SHARED */
export function sharedDir(): string | null {
  if (process.env.DSLLM_SHARED) return process.env.DSLLM_SHARED;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const cand = resolve(dir, '..', 'shared');
    if (existsSync(join(cand, 'data', 'corpus'))) return cand;
    dir = dirname(dir);
  }
  return null;
}

export function tmp(prefix: string): string { return mkdtempSync(join(tmpdir(), `dsllm-${prefix}-`)); }

/** package root (for the CLI and the task entry point under dist/) */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) { if (existsSync(join(dir, 'package.json'))) return dir; dir = dirname(dir); }
  throw new Error('package root not found');
}

/** n distinct English-like documents of `len` letter-only words (no shared 5-word shingles between them) */
export function uniqueDocs(n: number, len: number, tag: string): string[] {
  const out: string[] = [];
  for (let d = 0; d < n; d++) {
    const ws: string[] = [];
    for (let i = 0; i < len; i++) {
      let x = d * 1000 + i + tag.length * 7919, s = '';
      for (let k = 0; k < 4; k++) { s += String.fromCharCode(97 + (x % 26)); x = Math.floor(x / 26); }
      ws.push(`${tag}${s}`);
    }
    out.push(ws.join(' '));
  }
  return out;
}
