// Gopher quality and repetition rules (Rae et al. 2021, Table A1) with datatrove's default thresholds
// (../shared/ANCHORS-PIPELINE.md §2.1). Rule names are datatrove's, prefixed with the filter name.
import { PUNCTUATION, drop, hasAlpha, KEEP, splitLines, wordTokens, type Verdict } from './words.js';

export interface GopherQualityConfig {
  minDocWords: number; maxDocWords: number; minAvgWordLength: number; maxAvgWordLength: number;
  maxSymbolWordRatio: number; maxBulletLinesRatio: number; maxEllipsisLinesRatio: number;
  maxNonAlphaWordsRatio: number; minStopWords: number; stopWords: string[];
}

export const DEFAULT_GOPHER_QUALITY: Readonly<GopherQualityConfig> = {
  minDocWords: 50, maxDocWords: 100_000, minAvgWordLength: 3, maxAvgWordLength: 10,
  maxSymbolWordRatio: 0.1, maxBulletLinesRatio: 0.9, maxEllipsisLinesRatio: 0.3,
  maxNonAlphaWordsRatio: 0.8, minStopWords: 2, stopWords: ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'],
};

const count = (text: string, sub: string) => text.split(sub).length - 1;

export function gopherQuality(text: string, c: Readonly<GopherQualityConfig> = DEFAULT_GOPHER_QUALITY): Verdict {
  const words = wordTokens(text);
  const nonPunct = words.filter((w) => !PUNCTUATION.has(w));
  const n = nonPunct.length;
  if (n < c.minDocWords) return drop('gopher_quality:gopher_short_doc');
  if (n > c.maxDocWords) return drop('gopher_quality:gopher_long_doc');
  const avg = nonPunct.reduce((a, w) => a + [...w].length, 0) / n;
  if (avg < c.minAvgWordLength) return drop('gopher_quality:gopher_below_avg_threshold');
  if (avg > c.maxAvgWordLength) return drop('gopher_quality:gopher_above_avg_threshold');
  if (count(text, '#') / n > c.maxSymbolWordRatio) return drop('gopher_quality:gopher_too_many_hashes');
  if ((count(text, '...') + count(text, '…')) / n > c.maxSymbolWordRatio) return drop('gopher_quality:gopher_too_many_ellipsis');
  const lines = splitLines(text);
  if (lines.filter((l) => l.trimStart().startsWith('•')).length / lines.length > c.maxBulletLinesRatio) return drop('gopher_quality:gopher_too_many_bullets');
  if (lines.filter((l) => { const r = l.trimEnd(); return r.endsWith('...') || r.endsWith('…'); }).length / lines.length > c.maxEllipsisLinesRatio) {
    return drop('gopher_quality:gopher_too_many_end_ellipsis');
  }
  if (words.filter(hasAlpha).length / n < c.maxNonAlphaWordsRatio) return drop('gopher_quality:gopher_below_alpha_threshold');
  const stop = new Set(c.stopWords);
  if (words.filter((w) => stop.has(w)).length < c.minStopWords) return drop('gopher_quality:gopher_enough_stop_words');
  return KEEP;
}

export interface GopherRepetitionConfig {
  dupLineFrac: number; dupParaFrac: number; dupLineCharFrac: number; dupParaCharFrac: number;
  topNGrams: Array<[number, number]>; dupNGrams: Array<[number, number]>;
}

export const DEFAULT_GOPHER_REPETITION: Readonly<GopherRepetitionConfig> = {
  dupLineFrac: 0.3, dupParaFrac: 0.3, dupLineCharFrac: 0.2, dupParaCharFrac: 0.2,
  topNGrams: [[2, 0.2], [3, 0.18], [4, 0.16]],
  dupNGrams: [[5, 0.15], [6, 0.14], [7, 0.13], [8, 0.12], [9, 0.11], [10, 0.1]],
};

/** [duplicate elements, characters in duplicate elements]: later copies of an element count, the first does not */
export function findDuplicates(xs: readonly string[]): [number, number] {
  const seen = new Set<string>();
  let els = 0, chars = 0;
  for (const x of xs) { if (seen.has(x)) { els++; chars += x.length; } else seen.add(x); }
  return [els, chars];
}

function nGrams(words: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= words.length; i++) out.push(words.slice(i, i + n).join(' '));
  return out;
}

/** characters of the most frequent n-gram × its count */
export function topDuplicateChars(grams: readonly string[]): number {
  const c = new Map<string, number>();
  let best = 0, bestKey = '';
  for (const g of grams) {
    const v = (c.get(g) ?? 0) + 1;
    c.set(g, v);
    if (v > best || (v === best && g.length > bestKey.length)) { best = v; bestKey = g; }
  }
  return bestKey.length * best;
}

/** characters covered by repeated n-grams, skipping n words after each repeat (datatrove's find_all_duplicate) */
export function allDuplicateChars(words: readonly string[], n: number): number {
  const seen = new Set<string>();
  let chars = 0, i = 0;
  while (i < words.length - n + 1) {
    const g = words.slice(i, i + n).join(' ');
    if (seen.has(g)) { chars += g.length; i += n; } else { seen.add(g); i++; }
  }
  return chars;
}

export function gopherRepetition(text: string, c: Readonly<GopherRepetitionConfig> = DEFAULT_GOPHER_REPETITION): Verdict {
  const paragraphs = text.trim().split(/\n{2,}/);
  const [pd, pc] = findDuplicates(paragraphs);
  if (pd / paragraphs.length > c.dupParaFrac) return drop('gopher_repetition:dup_para_frac');
  if (pc / text.length > c.dupParaCharFrac) return drop('gopher_repetition:dup_para_char_frac');
  const lines = splitLines(text);
  const [ld, lc] = findDuplicates(lines);
  if (lines.length && ld / lines.length > c.dupLineFrac) return drop('gopher_repetition:dup_line_frac');
  if (lc / text.length > c.dupLineCharFrac) return drop('gopher_repetition:dup_line_char_frac');
  const words = wordTokens(text);
  for (const [n, frac] of c.topNGrams) {
    const g = nGrams(words, n);
    if (g.length && topDuplicateChars(g) / text.length > frac) return drop(`gopher_repetition:top_${n}_gram`);
  }
  for (const [n, frac] of c.dupNGrams) {
    if (words.length < n) continue;
    if (allDuplicateChars(words, n) / text.length > frac) return drop(`gopher_repetition:duplicated_${n}_n_grams`);
  }
  return KEEP;
}
