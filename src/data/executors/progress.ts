// Progress of a stage: a redrawn bar on a TTY, one line per finished task otherwise.
export class Progress {
  private readonly t0 = performance.now();
  private n: number;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly stage: string, private readonly total: number, private readonly skipped: number, private readonly log: (s: string) => void) {
    this.n = skipped;
    if (skipped) this.log(`${stage}: ${skipped}/${total} tasks already complete, skipped\n`);
    this.draw();
  }

  private draw(): void {
    const el = (performance.now() - this.t0) / 1000;
    const ran = this.n - this.skipped, left = this.total - this.n;
    const eta = ran > 0 ? (el / ran) * left : NaN;
    const w = 24, fill = Math.round((this.n / Math.max(this.total, 1)) * w);
    const line = `${this.stage.padEnd(9)} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${this.n}/${this.total} tasks  ${el.toFixed(1)} s${Number.isFinite(eta) && left ? `  eta ${eta.toFixed(1)} s` : ''}`;
    this.log(this.tty ? `\r${line}` : `${line}\n`);
  }

  done(): void { this.n++; this.draw(); }
  end(): void { if (this.tty) this.log('\n'); }
}
