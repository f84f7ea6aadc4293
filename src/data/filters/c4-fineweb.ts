// C4 quality rules (Raffel et al. 2020, as datatrove's C4QualityFilter) and FineWeb's quality rules
// (datatrove's FineWebQualityFilter), with datatrove's default thresholds. The C4 filter also rewrites
// the document: it keeps only the lines that pass.
import { findDuplicates } from './gopher.js';
import { drop, KEEP, splitLines, wordTokens, type Verdict } from './words.js';

export interface C4Config {
  removeCitations: boolean; filterNoTerminalPunct: boolean; minNumSentences: number; minWordsPerLine: number;
  maxWordLength: number; filterLoremIpsum: boolean; filterJavascript: boolean; filterCurlyBracket: boolean; filterPolicy: boolean;
}

export const DEFAULT_C4: Readonly<C4Config> = {
  removeCitations: true, filterNoTerminalPunct: true, minNumSentences: 5, minWordsPerLine: 3, maxWordLength: 1000,
  filterLoremIpsum: true, filterJavascript: true, filterCurlyBracket: true, filterPolicy: true,
};

const CITATION = /\[\d*]|\[edit]|\[citation needed]/g;
const END_PUNCT = ['.', '?', '!', '"', "'"];
const POLICY = ['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'];

/** sentences in a line: runs ending in . ! ? followed by space or end (a simple stand-in for nltk's punkt) */
export function countSentences(line: string): number {
  const m = line.match(/[^.!?]*[.!?]+(?=\s|$)/g);
  const rest = line.replace(/[^.!?]*[.!?]+(?=\s|$)/g, '').trim();
  return (m?.length ?? 0) + (rest ? 1 : 0);
}

export function c4Quality(text: string, c: Readonly<C4Config> = DEFAULT_C4): Verdict {
  let sentences = 0;
  const kept: string[] = [];
  for (const raw of splitLines(text)) {
    let line = raw.trim();
    const words = line.split(/\s+/).filter((w) => w);
    if (c.maxWordLength !== -1 && words.some((w) => w.length > c.maxWordLength)) continue;
    if (c.removeCitations) line = line.replace(CITATION, '');
    if (c.filterNoTerminalPunct && (!END_PUNCT.some((p) => line.endsWith(p)) || line.endsWith('...'))) continue;
    if (words.length < c.minWordsPerLine) continue;
    const lower = line.toLowerCase();
    if (c.filterLoremIpsum && lower.includes('lorem ipsum')) return drop('c4:lorem_ipsum');
    if (c.filterJavascript && lower.includes('javascript')) continue;
    if (c.filterCurlyBracket && line.includes('{')) return drop('c4:curly_bracket');
    if (c.filterPolicy && POLICY.some((p) => lower.includes(p))) continue;
    sentences += countSentences(line);
    kept.push(line);
  }
  if (sentences < c.minNumSentences) return drop('c4:too_few_sentences');
  return { keep: true, text: kept.join('\n').trim() };
}

export interface FineWebConfig {
  linePunctThr: number; linePunctExcludeZero: boolean; shortLineThr: number; shortLineLength: number;
  charDuplicatesRatio: number; newLineRatio: number;
}

export const DEFAULT_FINEWEB: Readonly<FineWebConfig> = {
  linePunctThr: 0.12, linePunctExcludeZero: false, shortLineThr: 0.67, shortLineLength: 30,
  charDuplicatesRatio: 0.01, newLineRatio: 0.3,
};

export function finewebQuality(text: string, c: Readonly<FineWebConfig> = DEFAULT_FINEWEB): Verdict {
  const lines = text.split('\n');
  const stop = ['.', "'", '"', '!', '?'];
  let ratio = lines.filter((l) => stop.some((s) => l.endsWith(s))).length / lines.length;
  if (ratio <= c.linePunctThr && !(ratio === 0 && c.linePunctExcludeZero)) return drop('fineweb:line_punct_ratio');
  ratio = lines.filter((l) => l.length <= c.shortLineLength).length / lines.length;
  if (ratio >= c.shortLineThr) return drop('fineweb:short_line_ratio');
  const nonEmpty = lines.filter((l) => l.trim() !== '');
  const chars = text.replace(/\n/g, '').length;
  if (chars > 0 && findDuplicates(nonEmpty)[1] / chars >= c.charDuplicatesRatio) return drop('fineweb:char_dup_ratio');
  const words = wordTokens(text);
  if (words.length && (lines.length - 1) / words.length > c.newLineRatio) return drop('fineweb:list_ratio');
  return KEEP;
}
