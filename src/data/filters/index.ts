// The quality filter chain, in FineWeb's order: language → Gopher repetition → Gopher quality → C4 →
// FineWeb. The word-based heuristics were designed for English (and space-separated languages); they
// run only on documents whose language is in `heuristicLanguages`. Each removal names its rule.
import type { Doc } from '../types.js';
import { c4Quality, DEFAULT_C4, DEFAULT_FINEWEB, finewebQuality, type C4Config, type FineWebConfig } from './c4-fineweb.js';
import { DEFAULT_GOPHER_QUALITY, DEFAULT_GOPHER_REPETITION, gopherQuality, gopherRepetition, type GopherQualityConfig, type GopherRepetitionConfig } from './gopher.js';
import { DEFAULT_LANGUAGE, detectLanguage, languageFilter, type LanguageConfig } from './language.js';

export interface FilterConfig {
  language: LanguageConfig | false;
  gopherRepetition: GopherRepetitionConfig | false;
  gopherQuality: GopherQualityConfig | false;
  c4: C4Config | false;
  fineweb: FineWebConfig | false;
  heuristicLanguages: string[];
}

export const DEFAULT_FILTERS: Readonly<FilterConfig> = {
  language: DEFAULT_LANGUAGE, gopherRepetition: DEFAULT_GOPHER_REPETITION, gopherQuality: DEFAULT_GOPHER_QUALITY,
  c4: DEFAULT_C4, fineweb: DEFAULT_FINEWEB, heuristicLanguages: ['en'],
};

/** Merges a partial user config over the defaults (per filter; `false` turns a filter off). */
export function filterConfig(user: Record<string, unknown> = {}): FilterConfig {
  const out = { ...DEFAULT_FILTERS } as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(user)) {
    if (!(k in out)) throw new Error(`filters: unknown filter '${k}' (known: ${Object.keys(out).join(', ')})`);
    const d = out[k];
    out[k] = v === false || Array.isArray(v) || typeof v !== 'object' || v === null || typeof d !== 'object' || !d ? v : { ...(d as object), ...(v as object) };
  }
  return out as unknown as FilterConfig;
}

export interface FilterOutcome { keep: boolean; text: string; rule?: string; language: string }

export function applyFilters(doc: Doc, c: Readonly<FilterConfig> = DEFAULT_FILTERS): FilterOutcome {
  let text = doc.text;
  let language = '';
  if (c.language) {
    const v = languageFilter(text, c.language);
    language = v.language;
    if (!v.keep) return { keep: false, text, rule: v.rule, language };
  } else if (c.heuristicLanguages.length) language = detectLanguage(text).language;
  if (c.heuristicLanguages.length && !c.heuristicLanguages.includes(language)) return { keep: true, text, language };
  const steps: Array<(t: string) => ReturnType<typeof gopherQuality>> = [];
  if (c.gopherRepetition) { const g = c.gopherRepetition; steps.push((t) => gopherRepetition(t, g)); }
  if (c.gopherQuality) { const g = c.gopherQuality; steps.push((t) => gopherQuality(t, g)); }
  if (c.c4) { const g = c.c4; steps.push((t) => c4Quality(t, g)); }
  if (c.fineweb) { const g = c.fineweb; steps.push((t) => finewebQuality(t, g)); }
  for (const s of steps) {
    const v = s(text);
    if (!v.keep) return { keep: false, text, rule: v.rule, language };
    if (v.text !== undefined) text = v.text;
  }
  return { keep: true, text, language };
}
