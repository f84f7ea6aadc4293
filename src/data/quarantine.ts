// Quarantine: bad input is counted per reason and written, one JSON line each, with where it came from.
import { AtomicWriter } from './atomic.js';

export type QuarantineReason =
  'malformed_json' | 'invalid_utf8' | 'empty' | 'giant' | 'missing_text' | 'unreadable_file';

export interface QuarantineWhere { source: string; file: string; line: number }

export class Quarantine {
  readonly counts: Record<string, number> = {};
  private out: AtomicWriter | null;

  /** path null: count only */
  constructor(path: string | null) {
    this.out = path ? new AtomicWriter(path) : null;
  }

  add(reason: QuarantineReason, where: QuarantineWhere, detail?: string): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    this.out?.write(JSON.stringify({ reason, ...where, ...(detail ? { detail } : {}) }) + '\n');
  }

  get total(): number { return Object.values(this.counts).reduce((a, b) => a + b, 0); }

  commit(): void { this.out?.commit(); this.out = null; }
  abort(): void { this.out?.abort(); this.out = null; }
}
