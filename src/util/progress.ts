// A one-line progress display: redrawn in place on a TTY (rate, ETA and any fields), plain lines
// every few seconds otherwise (CI logs stay readable).
export class Progress {
  private last = 0;
  private readonly tty: boolean;
  constructor(private readonly total: number, private readonly label = '', private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, fields: Record<string, string>, elapsedS: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < (this.tty ? 200 : 10_000)) return;
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const eta = done > 0 ? (elapsedS * (this.total - done)) / done : NaN;
    const width = 20, filled = Math.round(frac * width);
    const bar = this.tty ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    const f = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' | ');
    const line = `${this.label}${bar}${done}/${this.total} (${(frac * 100).toFixed(1)}%) | ${f} | eta ${fmtTime(eta)}`;
    this.stream.write(this.tty ? `\r\x1b[K${line}` : line + '\n');
  }

  end(): void {
    if (this.tty) this.stream.write('\n');
  }
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}
