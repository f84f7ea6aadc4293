// Where the shared test data lives: shared/data beside the repository (found by walking up from
// this file), or $DSLLM_DATA. Tests that need it are skipped with a reason when it is missing.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { fileURLToPath } from 'node:url';

export function dataDir(): string | null {
  if (process.env.DSLLM_DATA) return process.env.DSLLM_DATA;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const cand = resolve(dir, 'shared', 'data');
    if (existsSync(join(cand, 'tokenizers'))) return cand;
    dir = dirname(dir);
  }
  return null;
}

export const DATA = dataDir();
export const SKIP = DATA ? false : 'shared/data not found (set DSLLM_DATA)';
export const data = (...p: string[]) => join(DATA ?? '/nonexistent', ...p);

/** The llama.cpp test strings (`.inp`: cases separated by "\n__ggml_vocab_test__\n", last piece empty). */
export function vocabInputs(vocab: string): string[] {
  const parts = readFileSync(data('tokenizers', `${vocab}-vocab.gguf.inp`), 'utf8').split('\n__ggml_vocab_test__\n');
  parts.pop();
  return parts;
}

/** Expected ids per case (`.out`: one line per case, ids with a leading space each). */
export function vocabOutputs(vocab: string): string[] {
  return readFileSync(data('tokenizers', `${vocab}-vocab.gguf.out`), 'utf8').split('\n');
}

export const idsLine = (ids: ArrayLike<number>) => Array.from(ids, (x) => ' ' + x).join('');

const loaded = new Map<string, Tokenizer>();
/** Loads a tokenizer once per test file (GGUF vocabularies take a second or so to load). */
export function tokenizerOf(path: string): Tokenizer {
  let t = loaded.get(path);
  if (!t) loaded.set(path, t = loadTokenizer(path));
  return t;
}
