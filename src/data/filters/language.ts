// Language identification with `eld` (Nito-ELD, n-gram based, pure JS, small database). datatrove uses
// fastText's lid.176 with a 0.65 probability threshold; ELD's scores are not probabilities (a clear
// English paragraph scores ≈ 0.75–0.85, the runner-up ≈ 0.55), so our default threshold is 0.5 plus
// ELD's own reliability check. Only the first 4,000 characters are looked at.
import { eld } from 'eld/small';
import { drop, type Verdict } from './words.js';

export interface LanguageConfig {
  /** ISO 639-1 codes to keep; empty keeps every language that is identified reliably */
  languages: string[];
  minScore: number;
}

export const DEFAULT_LANGUAGE: Readonly<LanguageConfig> = { languages: ['en', 'zh'], minScore: 0.5 };

export function detectLanguage(text: string): { language: string; score: number; reliable: boolean } {
  const r = eld.detect(text.length > 4000 ? text.slice(0, 4000) : text);
  const score = r.language ? r.getScores()[r.language] ?? 0 : 0;
  return { language: r.language, score, reliable: r.isReliable() };
}

export function languageFilter(text: string, c: Readonly<LanguageConfig> = DEFAULT_LANGUAGE): Verdict & { language: string } {
  const d = detectLanguage(text);
  if (!d.language || !d.reliable || d.score < c.minScore) return { ...drop('language:low_score'), language: d.language };
  if (c.languages.length && !c.languages.includes(d.language)) return { ...drop('language:unwanted_language'), language: d.language };
  return { keep: true, language: d.language };
}
