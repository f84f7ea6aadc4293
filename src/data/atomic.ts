// Atomic file writes (DESIGN invariant 3): write to `<path>.tmp-<pid>`, fsync, rename, fsync the folder.
// A killed process leaves at most a stray .tmp file, never a half-written output that a rerun trusts.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

function fsyncDir(dir: string): void {
  try { const fd = openSync(dir, 'r'); try { fsyncSync(fd); } finally { closeSync(fd); } } catch { /* not supported everywhere */ }
}

/** Writes `data` to `path` atomically. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const w = new AtomicWriter(path);
  w.write(data);
  w.commit();
}

/**
 * A file written in pieces and published in one rename. Buffers up to `bufBytes` before each write.
 * @example const w = new AtomicWriter('out/docs-00000.jsonl'); w.write(line); w.commit();
 */
export class AtomicWriter {
  readonly tmp: string;
  private fd: number;
  private chunks: Uint8Array[] = [];
  private pending = 0;
  bytes = 0;

  constructor(readonly path: string, private readonly bufBytes = 1 << 20) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
  }

  write(data: string | Uint8Array): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.chunks.push(b);
    this.pending += b.length;
    this.bytes += b.length;
    if (this.pending >= this.bufBytes) this.flush();
  }

  private flush(): void {
    if (!this.pending) return;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    let off = 0;
    while (off < all.length) off += writeSync(this.fd, all, off, all.length - off);
    this.chunks = [];
    this.pending = 0;
  }

  commit(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
    fsyncDir(dirname(this.path));
  }

  abort(): void {
    try { closeSync(this.fd); } catch { /* already closed */ }
    rmSync(this.tmp, { force: true });
  }
}
