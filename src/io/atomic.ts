// Atomic file writes: write a temp file in the same directory, fsync it, rename over the target,
// fsync the directory. A process killed at any point leaves either the old file or the new one.
import { closeSync, fsyncSync, openSync, renameSync, writeSync, unlinkSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/** Streams a file atomically: `fill(put)` writes its bytes through `put` (in any number of calls). */
export function writeStreamAtomic(path: string, fill: (put: (buf: Uint8Array) => void) => void): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const fd = openSync(tmp, 'w');
  try {
    fill((buf) => {
      let off = 0;
      while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
    });
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    if (existsSync(tmp)) unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function writeFileAtomic(path: string, chunks: (Uint8Array | string)[] | Uint8Array | string): void {
  const list = Array.isArray(chunks) ? chunks : [chunks];
  writeStreamAtomic(path, (put) => { for (const c of list) put(typeof c === 'string' ? Buffer.from(c, 'utf8') : c); });
}

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* some filesystems refuse fsync on directories; the rename is still atomic */ }
}
