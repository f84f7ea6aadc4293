// The hand-off format between stages: JSON lines {id, text, source, domain[, copy]}, written atomically.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { AtomicWriter, writeFileAtomic } from './atomic.js';
import { lines } from './readers.js';
import type { Doc } from './types.js';

export interface StageDoc extends Doc { copy?: number }

export async function* readDocs(path: string): AsyncGenerator<StageDoc> {
  let n = 0;
  for await (const l of lines(createReadStream(path), Number.MAX_SAFE_INTEGER)) {
    n++;
    if (!l.bytes || l.bytes.length === 0) continue;
    try { yield JSON.parse(l.bytes.toString('utf8')) as StageDoc; } catch (e) {
      throw new Error(`${path}:${n}: corrupt stage file (${(e as Error).message}); delete this stage's completion markers and rerun`);
    }
  }
}

export class DocWriter {
  private w: AtomicWriter;
  docs = 0;
  constructor(readonly path: string) { this.w = new AtomicWriter(path); }
  write(d: StageDoc): void { this.w.write(JSON.stringify(d) + '\n'); this.docs++; }
  commit(): void { this.w.commit(); }
  abort(): void { this.w.abort(); }
}

export function writeJson(path: string, v: unknown): void { writeFileAtomic(path, JSON.stringify(v, null, 1) + '\n'); }

export function readJson<T>(path: string): T {
  if (!existsSync(path)) throw new Error(`${path}: missing (has the stage that writes it run?)`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
