// Helpers for the benches that run the whole training loop: read a run's log.jsonl back.
import { readFileSync } from 'node:fs';

export interface LogRecord { step: number; loss: number; lr: number; step_s: number; tok_per_s: number; tokens: number; val_loss?: number; val_bpb?: number; elapsed_s?: number }

export function readLog(path: string): LogRecord[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogRecord).filter((r) => r.loss !== undefined);
}

/** the last validation record of a run */
export function finalVal(recs: LogRecord[]): { loss: number; bpb: number } {
  const v = recs.filter((r) => r.val_loss !== undefined);
  if (!v.length) throw new Error('bench: the run logged no validation loss');
  return { loss: v[v.length - 1].val_loss!, bpb: v[v.length - 1].val_bpb! };
}

export function loadAverage(): string {
  try { return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '); } catch { return '?'; }
}

/** the first validation record at or below `target` nats/byte (null if the run never got there) */
export function firstBelow(recs: LogRecord[], target: number): LogRecord | null {
  return recs.find((r) => r.val_loss !== undefined && r.val_loss <= target) ?? null;
}
