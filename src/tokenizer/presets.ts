// Pre-tokenizer presets, as data. A GGUF file names its pre-tokenizer (`tokenizer.ggml.pre`); these
// are the regex lists llama.cpp runs for each name (src/llama-vocab.cpp, llm_tokenizer_bpe), each
// regex one Isolated Split stage. tiktoken encodings carry their own pattern (one Split stage).
import type { PreTokenizerJson } from './pretokenize.js';

const cp = (...ranges: (number | [number, number])[]): string =>
  ranges.map((r) => (typeof r === 'number' ? String.fromCodePoint(r) : `${String.fromCodePoint(r[0])}-${String.fromCodePoint(r[1])}`)).join('');

/**
 * DeepSeek LLM's letter class (../shared/DEEPSEEK-LLM-FACTS.md §2.3): a strict subset of the cased
 * letters, written as code points so no editor or transport can normalize them (six of them,
 * U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A, have canonical decompositions).
 */
export const DEEPSEEK_LETTERS = cp(
  [0x41, 0x5a], [0x61, 0x7a], 0xb5, [0xc0, 0xd6], [0xd8, 0xf6], [0xf8, 0x1ba], [0x1bc, 0x1bf], [0x1c4, 0x293],
  [0x295, 0x2af], [0x370, 0x373], 0x376, 0x377, [0x37b, 0x37d], 0x37f, 0x386, [0x388, 0x38a], 0x38c,
  [0x38e, 0x3a1], [0x3a3, 0x3f5], [0x3f7, 0x481], [0x48a, 0x52f], [0x531, 0x556], [0x10a0, 0x10c5],
  [0x13a0, 0x13f5], [0x13f8, 0x13fd], [0x1c90, 0x1cba], [0x1cbd, 0x1cbf], [0x1d00, 0x1d2b], [0x1d6b, 0x1d77],
  [0x1d79, 0x1d9a], [0x1e00, 0x1f15], [0x1f18, 0x1f1d], [0x1f20, 0x1f45], [0x1f48, 0x1f4d], [0x1f50, 0x1f57],
  0x1f59, 0x1f5b, 0x1f5d, [0x1f5f, 0x1f7d], [0x1f80, 0x1fb4], [0x1fb6, 0x1fbc], 0x1fbe, [0x1fc2, 0x1fc4],
  [0x1fc6, 0x1fcc], [0x1fd0, 0x1fd3], [0x1fd6, 0x1fdb], [0x1fe0, 0x1fec], [0x1ff2, 0x1ff4], [0x1ff6, 0x1ffc],
  0x2102, 0x2107, [0x210a, 0x2113], 0x2115, [0x2119, 0x211d], 0x2124, 0x2126, 0x2128, [0x212a, 0x212d],
  [0x212f, 0x2134], 0x2139, [0x213c, 0x213f], [0x2145, 0x2149], 0x214e, 0x2183, 0x2184, [0x2c00, 0x2c7b],
  [0x2c7e, 0x2ce4], [0x2ceb, 0x2cee], 0x2cf2, 0x2cf3, [0xa640, 0xa66d], [0xa680, 0xa69b], [0xa722, 0xa76f],
  [0xa771, 0xa787], [0xa78b, 0xa78e], [0xab70, 0xabbf], [0xfb00, 0xfb06], [0xfb13, 0xfb17], [0xff21, 0xff3a],
  [0xff41, 0xff5a], [0x10400, 0x1044f], [0x104b0, 0x104d3], [0x104d8, 0x104fb], [0x10c80, 0x10cb2],
  [0x10cc0, 0x10cf2], [0x118a0, 0x118df], [0x1e900, 0x1e943],
);
/** ASCII punctuation and symbols, fullwidth forms, curly quotes, ideographic space/comma/full stop */
const DEEPSEEK_PUNCT = cp([0x21, 0x2f], [0x3a, 0x7e], [0xff01, 0xff0f], [0xff1a, 0xff5e], [0x2018, 0x201f], [0x3000, 0x3002]);
/** CJK unified ideographs to U+9FA5, the wide U+0800–U+4E00 block, Hangul syllables and beyond */
const CJK = cp([0x4e00, 0x9fa5], [0x0800, 0x4e00], [0xac00, 0xd7ff]);

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The tiktoken encodings' split patterns (from the tiktoken package's encoder files). */
export const TIKTOKEN_PATTERNS: Record<string, string> = {
  r50k_base: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  p50k_base: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  cl100k_base: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

export const split = (regex: string): PreTokenizerJson => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
const seq = (...regexes: string[]): PreTokenizerJson => ({ type: 'Sequence', pretokenizers: regexes.map(split) });
const withByteLevel = (p: PreTokenizerJson): PreTokenizerJson => ({
  type: 'Sequence',
  pretokenizers: [...(p.type === 'Sequence' ? p.pretokenizers : [p]), { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }],
});

/**
 * DeepSeek LLM's pre-tokenizer in HF form (FACTS §2.3): newlines isolated, letter runs, punctuation
 * runs, trailing whitespace, CJK runs, single digits, then bytes. This is what `train` uses by
 * default and what `tokenizer.json` export writes.
 */
export const DEEPSEEK_LLM_HF: PreTokenizerJson = {
  type: 'Sequence',
  pretokenizers: [
    split('[\r\n]'),
    split(`\\s?[${DEEPSEEK_LETTERS}]+`),
    split(`\\s?[${DEEPSEEK_PUNCT}]+`),
    split('\\s+$'),
    split(`[${CJK}]+`),
    { type: 'Digits', individual_digits: true },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
};

/** llama.cpp's regex lists by `tokenizer.ggml.pre` name, each followed by the byte-level mapping. */
const LLAMA_CPP: Record<string, PreTokenizerJson> = {
  'deepseek-llm': seq('[\r\n]', `\\s?[${DEEPSEEK_LETTERS}]+`, `\\s?[${DEEPSEEK_PUNCT}]+`, '\\s+$', `[${CJK}]+`, '\\p{N}+'),
  'deepseek-coder': seq('[\r\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', `[${CJK}]+`, '\\p{N}'),
  'gpt-2': seq(GPT2),
  'llama-bpe': seq(LLAMA3),
  'qwen2': seq(QWEN2),
  'falcon': seq('[\\p{P}\\$\\+<=>\\^~\\|`]+', GPT2, '[0-9][0-9][0-9]'),
  'starcoder': seq('\\p{N}', GPT2),
  'default': seq('[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'),
};
const ALIASES: Record<string, string> = {
  'llama3': 'llama-bpe', 'llama-v3': 'llama-bpe', 'falcon3': 'llama-bpe', 'dbrx': 'llama-bpe', 'smaug-bpe': 'llama-bpe',
  'mpt': 'gpt-2', 'olmo': 'gpt-2', 'jais': 'gpt-2', 'phi-2': 'gpt-2', 'roberta-bpe': 'gpt-2',
  'refact': 'starcoder', 'command-r': 'starcoder', 'smollm': 'starcoder', 'codeshell': 'starcoder', 'exaone': 'starcoder',
  'deepseek-r1-qwen': 'qwen2',
};
/** llama.cpp turns merges off (whole-piece lookup first) for these */
const IGNORE_MERGES = new Set(['llama-bpe']);

export interface GgufPreset { name: string; preTokenizer: PreTokenizerJson; ignoreMerges: boolean }

/** The preset for a `tokenizer.ggml.pre` value, or null when unknown. */
export function ggufPreset(pre: string): GgufPreset | null {
  const name = ALIASES[pre] ?? pre;
  const p = LLAMA_CPP[name];
  return p ? { name, preTokenizer: withByteLevel(p), ignoreMerges: IGNORE_MERGES.has(name) } : null;
}
export const ggufPresetNames = (): string[] => [...Object.keys(LLAMA_CPP), ...Object.keys(ALIASES)].sort();
