// Streaming word counts for BPE training: text → pre-token pieces → counts, with a cap on distinct
// words so memory stays bounded on inputs of any size. Used in worker threads (count-worker.ts) and
// in-process. Special tokens are cut out of the text first and not counted.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { AddedTokens } from './added-tokens.js';
import { compilePreTokenizer, type PreTokenizerJson } from './pretokenize.js';
import type { DollarMode } from './regex.js';

export interface CountConfig {
  pre: PreTokenizerJson | null;
  dollar: DollarMode;
  specials: string[];
  /** prune when more distinct words than this are held */
  maxWords: number;
}

/** A byte range of a file, cut at line boundaries by the reader. */
export interface Chunk { file: string; start: number; end: number; jsonl: boolean }

export class WordCounter {
  readonly counts = new Map<string, number>();
  /** occurrences dropped by pruning (rare words), reported */
  pruned = 0;
  bytes = 0;
  private minKeep = 2;
  private pre;
  private specials: AddedTokens;
  constructor(private cfg: CountConfig) {
    this.pre = compilePreTokenizer(cfg.pre, 'pre_tokenizer', cfg.dollar);
    this.specials = new AddedTokens(cfg.specials.map((content, id) => ({ id, content, special: true })));
  }

  addText(text: string): void {
    const counts = this.counts;
    for (const seg of this.specials.split(text, 'all')) {
      if (!('text' in seg)) continue;
      this.pre.each(seg.text, (p) => { counts.set(p, (counts.get(p) ?? 0) + 1); });
    }
    if (counts.size > this.cfg.maxWords) this.prune();
  }

  /** Drops words seen fewer than minKeep times (raising minKeep) until at most half the cap remain. */
  private prune(): void {
    while (this.counts.size > this.cfg.maxWords / 2) {
      for (const [w, c] of this.counts) if (c < this.minKeep) { this.pruned += c; this.counts.delete(w); }
      this.minKeep *= 2;
    }
  }

  /** Reads chunk.file[start, end), moved to line boundaries so no line is counted twice or cut. */
  addChunk(chunk: Chunk): void {
    const fd = openSync(chunk.file, 'r');
    try {
      const size = statSync(chunk.file).size;
      const at = (pos: number) => {           // first byte after the newline at or after pos
        if (pos <= 0) return 0;
        const b = Buffer.alloc(65536);
        for (let p = pos - 1; p < size;) {
          const n = readSync(fd, b, 0, b.length, p);
          const i = b.subarray(0, n).indexOf(10);
          if (i >= 0) return p + i + 1;
          p += n;
          if (n === 0) break;
        }
        return size;
      };
      const a = at(chunk.start), e = Math.min(size, at(chunk.end));
      if (e <= a) return;
      const buf = Buffer.alloc(e - a);
      readSync(fd, buf, 0, buf.length, a);
      this.bytes += buf.length;
      const text = buf.toString('utf8');
      if (!chunk.jsonl) { this.addText(text); return; }
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try { this.addText(jsonStrings(JSON.parse(line)).join('\n')); } catch { this.addText(line); }
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** The string leaves of a JSON value, in order (a JSONL record's text fields). */
export function jsonStrings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) jsonStrings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) jsonStrings(x, out);
  return out;
}

/** Cuts files into chunks of about `size` bytes. */
export function chunkFiles(files: string[], size = 8 << 20): Chunk[] {
  const out: Chunk[] = [];
  for (const file of files) {
    const n = statSync(file).size, jsonl = file.endsWith('.jsonl');
    for (let s = 0; s < n; s += size) out.push({ file, start: s, end: Math.min(n, s + size), jsonl });
  }
  return out;
}
