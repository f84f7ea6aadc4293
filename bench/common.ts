// Bench plumbing shared by every suite: timing with warm-up, medians with spread, peer processes,
// and the output format of ../shared/BENCH.md (a table, or one JSON object per line with --json).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchRow {
  suite: string;
  case: string;
  metric: string;
  unit: string;
  ours: number | null;
  peer: string | null;
  peer_value: number | null;
  ratio: number | null;
  reps: number;
  /** (max − min) / median of ours, over the repetitions */
  spread: number | null;
  note?: string;
}

export interface BenchOptions {
  json: boolean;
  reps: number;
  /** restricts a suite to these cases when non-empty */
  cases: string[];
  quick: boolean;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function spreadOf(xs: number[]): number {
  if (xs.length < 2) return 0;
  return (Math.max(...xs) - Math.min(...xs)) / median(xs);
}

/** Runs fn `warmup` times, then `reps` times; returns seconds per call for each rep. */
export function timeReps(fn: () => void, reps: number, warmup = 1, innerIters = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < innerIters; i++) fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e9 / innerIters);
  }
  return out;
}

export function emit(row: BenchRow, opts: BenchOptions): void {
  if (opts.json) {
    process.stdout.write(JSON.stringify(row) + '\n');
    return;
  }
  const f = (x: number | null, d = 1) => (x === null ? '—' : x.toFixed(d));
  const peer = row.peer ? `${row.peer} ${f(row.peer_value)}` : 'no peer';
  process.stdout.write(
    `${row.suite.padEnd(9)} ${row.case.padEnd(22)} ours ${f(row.ours).padStart(9)} ${row.unit.padEnd(8)} ` +
    `${peer.padEnd(32)} ratio ${f(row.ratio, 2).padStart(5)}  spread ${f(row.spread === null ? null : row.spread * 100, 0)}%` +
    (row.note ? `  (${row.note})` : '') + '\n');
}

export function note(msg: string, opts: BenchOptions): void {
  // notes go to stderr so --json stdout stays one object per line
  if (!opts.json) process.stdout.write(msg + '\n');
  else process.stderr.write(msg + '\n');
}

/** ../shared/bench/peers, found next to the package root (as laid out in this workplace), or $DSLLM_PEERS */
export function peersDir(): string | null {
  if (process.env.DSLLM_PEERS) return process.env.DSLLM_PEERS;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = resolve(dir, '..', 'shared', 'bench', 'peers');
    if (existsSync(cand)) return cand;
    dir = dirname(dir);
  }
  return null;
}

export interface PeerResult { ok: boolean; lines: Record<string, unknown>[]; error?: string }

/** Runs a python peer script and parses the JSON lines it prints. */
export function runPython(args: string[], env: Record<string, string>, cwd: string, timeoutMs = 600_000): PeerResult {
  const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(py, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.status !== 0) return { ok: false, lines: [], error: (r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ') };
  const lines: Record<string, unknown>[] = [];
  for (const l of r.stdout.split('\n')) {
    const t = l.trim();
    if (t.startsWith('{')) { try { lines.push(JSON.parse(t)); } catch { /* non-JSON output is ignored */ } }
  }
  return { ok: true, lines };
}

/** true when `import mod` works in the system python */
export function pythonHas(mod: string): boolean {
  const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  return spawnSync(py, ['-c', `import ${mod}`], { encoding: 'utf8' }).status === 0;
}

export function repoPath(...p: string[]): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', ...p);
}
