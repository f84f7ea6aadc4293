// tiktoken vocabularies: rank files (`<base64 token> <rank>` per line, as `.tiktoken` files) and
// the JSON the `tiktoken` npm package ships ({pat_str, special_tokens, bpe_ranks}, where bpe_ranks
// is a compressed form: lines of `<tag> <first rank> <base64> <base64> …`). A rank is the token id;
// BPE merges the adjacent pair whose concatenation has the lowest rank (BpeModel mode 'ranks').
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { TokenizerError } from '../errors.js';
import { ByteArena } from '../byte-level.js';
import { TIKTOKEN_PATTERNS, split } from '../presets.js';
import type { TokenizerSpec } from '../tokenizer.js';

/** Special tokens of the standard encodings (tiktoken's openai_public.py). */
const SPECIALS: Record<string, Record<string, number>> = {
  r50k_base: { '<|endoftext|>': 50256 },
  p50k_base: { '<|endoftext|>': 50256 },
  cl100k_base: { '<|endoftext|>': 100257, '<|fim_prefix|>': 100258, '<|fim_middle|>': 100259, '<|fim_suffix|>': 100260, '<|endofprompt|>': 100276 },
};

export interface TiktokenOptions {
  /** split regex; defaults to the known pattern for the file's base name (cl100k_base, …) */
  pattern?: string;
  specialTokens?: Record<string, number>;
}

/** Parses a `.tiktoken` rank file: one `<base64> <rank>` per line. */
export function parseRankFile(text: string, file: string): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  const arena = new ByteArena();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const sp = line.indexOf(' ');
    const rank = Number(line.slice(sp + 1));
    if (sp <= 0 || !Number.isInteger(rank) || rank < 0) {
      throw new TokenizerError(`${file}: line ${i + 1}: expected "<base64 token> <rank>", found ${JSON.stringify(line.slice(0, 60))}`, { code: 'E_TIKTOKEN' });
    }
    if (tokens[rank]) throw new TokenizerError(`${file}: line ${i + 1}: rank ${rank} appears twice`, { code: 'E_TIKTOKEN' });
    tokens[rank] = arena.base64(line.slice(0, sp));
  }
  return tokens;
}

/** Expands the tiktoken npm package's compressed bpe_ranks. */
function parseCompressedRanks(s: string, file: string): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  const arena = new ByteArena();
  s.split('\n').forEach((line, i) => {
    if (!line) return;
    const parts = line.split(' ');
    const first = Number(parts[1]);
    if (!Number.isInteger(first)) throw new TokenizerError(`${file}: bpe_ranks line ${i + 1}: bad first rank ${JSON.stringify(parts[1])}`, { code: 'E_TIKTOKEN' });
    for (let k = 2; k < parts.length; k++) tokens[first + k - 2] = arena.base64(parts[k]);
  });
  return tokens;
}

/** Finds the tiktoken package's encoder JSON for a standard encoding name, or null. */
export function tiktokenPackageFile(name: string): string | null {
  try {
    return createRequire(import.meta.url).resolve(`tiktoken/encoders/${name}.json`);
  } catch {
    return null;
  }
}

/** Builds a spec from tokens (by rank), a split pattern and special tokens. */
export function tiktokenSpec(name: string, tokens: (Uint8Array | null)[], pattern: string, specials: Record<string, number>): TokenizerSpec {
  let vocabSize = tokens.length;
  const addedTokens = Object.entries(specials).map(([content, id]) => {
    vocabSize = Math.max(vocabSize, id + 1);
    return { id, content, special: true };
  });
  const full: (Uint8Array | null)[] = Array.from({ length: tokens.length }, (_, i) => tokens[i] ?? null);
  return {
    name, tokens: full, mode: 'ranks', ignoreMerges: true,
    preTokenizer: { type: 'Sequence', pretokenizers: [split(pattern), { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    dollar: 'text-end', normalizer: null,
    addedTokens, eos: specials['<|endoftext|>'], vocabSize,
  };
}

/**
 * Loads a tiktoken vocabulary: a `.tiktoken` rank file, the tiktoken package's JSON, or a standard
 * encoding name (`cl100k_base`, `r50k_base`, `p50k_base`) found in the installed tiktoken package.
 */
export function loadTiktokenSpec(pathOrName: string, opts: TiktokenOptions = {}): TokenizerSpec {
  let path = pathOrName;
  if (!existsSync(path)) {
    const found = tiktokenPackageFile(pathOrName);
    if (!found) {
      throw new TokenizerError(`${pathOrName}: no such file, and not an encoding of the installed tiktoken package`,
        { code: 'E_TIKTOKEN', hint: 'give a .tiktoken rank file, or npm install tiktoken for cl100k_base etc.' });
    }
    path = found;
  }
  const text = readFileSync(path, 'utf8');
  const base = basename(path).replace(/\.(tiktoken|json)$/, '');
  if (path.endsWith('.json')) {
    let j: { pat_str?: string; special_tokens?: Record<string, number>; bpe_ranks?: string };
    try { j = JSON.parse(text); } catch (e) { throw new TokenizerError(`${path}: not valid JSON: ${(e as Error).message}`, { code: 'E_TIKTOKEN' }); }
    if (typeof j.bpe_ranks !== 'string' || typeof j.pat_str !== 'string') {
      throw new TokenizerError(`${path}: expected tiktoken JSON with "pat_str" and "bpe_ranks" strings`, { code: 'E_TIKTOKEN' });
    }
    return tiktokenSpec(path, parseCompressedRanks(j.bpe_ranks, path), opts.pattern ?? j.pat_str, opts.specialTokens ?? j.special_tokens ?? {});
  }
  const pattern = opts.pattern ?? TIKTOKEN_PATTERNS[base];
  if (!pattern) {
    throw new TokenizerError(`${path}: no split pattern known for "${base}"`,
      { code: 'E_TIKTOKEN', hint: `name the file after its encoding (${Object.keys(TIKTOKEN_PATTERNS).join(', ')}) or pass a pattern` });
  }
  return tiktokenSpec(path, parseRankFile(text, path), pattern, opts.specialTokens ?? SPECIALS[base] ?? {});
}
