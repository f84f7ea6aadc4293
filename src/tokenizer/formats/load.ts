// One entry point for every tokenizer file: GGUF (by magic), HF tokenizer.json (a JSON object with
// "model"), tiktoken JSON (with "bpe_ranks"), tiktoken rank files, or a tiktoken encoding name.
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync, renameSync } from 'node:fs';
import { TokenizerError } from '../errors.js';
import { Tokenizer, type TokenizerSpec } from '../tokenizer.js';
import { loadGgufSpec } from './gguf.js';
import { hfJsonToSpec, toHfJson } from './hf.js';
import { loadTiktokenSpec, tiktokenPackageFile } from './tiktoken.js';

export type TokenizerFormat = 'gguf' | 'hf' | 'tiktoken';

/** Which format a path holds (by content, not by name). */
export function detectFormat(path: string): TokenizerFormat {
  if (!existsSync(path)) {
    if (tiktokenPackageFile(path)) return 'tiktoken';
    throw new TokenizerError(`${path}: no such file`, { code: 'E_NO_FILE', hint: 'give a tokenizer.json, a .gguf, a tiktoken rank file, or cl100k_base' });
  }
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(64);
  const n = readSync(fd, head, 0, 64, 0);
  closeSync(fd);
  const s = head.subarray(0, n).toString('latin1');
  if (s.startsWith('GGUF')) return 'gguf';
  if (s.trimStart().startsWith('{')) {
    return /"bpe_ranks"\s*:/.test(readFileSync(path, 'utf8').slice(0, 4096)) && !/"model"\s*:/.test(readFileSync(path, 'utf8')) ? 'tiktoken' : 'hf';
  }
  if (/^[A-Za-z0-9+/=]+ \d+/.test(s)) return 'tiktoken';
  throw new TokenizerError(`${path}: not a tokenizer file I know (GGUF, tokenizer.json, tiktoken)`, { code: 'E_FORMAT' });
}

export function loadTokenizerSpec(path: string): TokenizerSpec {
  switch (detectFormat(path)) {
    case 'gguf': return loadGgufSpec(path);
    case 'hf': return hfJsonToSpec(readFileSync(path, 'utf8'), path);
    case 'tiktoken': return loadTiktokenSpec(path);
  }
}

/**
 * Loads any supported tokenizer file.
 * @example const tok = loadTokenizer('deepseek-llm-vocab.gguf'); tok.encode('Hello world') // Uint32Array [17464, 1843]
 */
export function loadTokenizer(path: string): Tokenizer {
  return new Tokenizer(loadTokenizerSpec(path));
}

/** Writes tokenizer.json atomically (temp file, then rename). */
export function saveHfJson(tok: Tokenizer, path: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(toHfJson(tok), null, 1));
  renameSync(tmp, path);
}
