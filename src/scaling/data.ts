// The text a sweep trains on, written once into the sweep directory: chunks of ~2 KB (cut at line
// ends) from every input file, shuffled with the sweep's seed, so the last 10% that `train()` holds
// out for bits-per-byte is distributed like the training text (the paper's validation set is).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { wordnetCorpus } from '../corpus/wordnet.js';
import { Rng } from '../util/rng.js';
import { writeFileAtomic } from '../io/atomic.js';
import { SpecError } from './spec.js';

function listFiles(p: string): string[] {
  if (!existsSync(p)) throw new SpecError(`data ${p}: no such file or directory`);
  if (statSync(p).isDirectory()) return readdirSync(p).sort().flatMap((f) => listFiles(join(p, f)));
  return [p];
}

function chunks(text: string, size = 2048): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let j = Math.min(text.length, i + size);
    const nl = text.indexOf('\n', j);
    j = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

/** writes the sweep's training text to `path` (unless present) and returns a description */
export function prepareSweepData(data: 'builtin' | string | string[], maxBytes: number, seed: number, path: string): string {
  const files = data === 'builtin' ? [] : (Array.isArray(data) ? data : [data]).flatMap(listFiles);
  const texts = data === 'builtin' ? [wordnetCorpus()] : files.map((f) => readFileSync(f, 'utf8'));
  const all = texts.flatMap((t) => chunks(t));
  const rng = new Rng(seed ^ 0xda7a);
  for (let i = all.length - 1; i > 0; i--) { const j = rng.int(i + 1); [all[i], all[j]] = [all[j], all[i]]; }
  let bytes = 0, k = 0;
  while (k < all.length && bytes < maxBytes) bytes += Buffer.byteLength(all[k++]);
  if (bytes < 64 * 1024) throw new SpecError(`data ${data === 'builtin' ? 'builtin' : files.join(', ')}: only ${bytes} bytes of text; a sweep needs at least 64 KiB`);
  if (!existsSync(path)) writeFileAtomic(path, all.slice(0, k).join(''));
  return `${data === 'builtin' ? 'built-in WordNet glosses' : `${files.length} file${files.length === 1 ? '' : 's'}`}: ${bytes} bytes in ${k} shuffled chunks`;
}
