// Word splitting shared by the heuristic filters: an approximation of nltk's word_tokenize (which
// datatrove uses): runs of letters/digits (with inner apostrophes) are words, "..." is one token,
// every other non-space character is a token of its own.
const WORD_RE = /[\p{L}\p{N}_]+(?:['’][\p{L}\p{N}_]+)*|\.\.\.|[^\s\p{L}\p{N}_]/gu;

export function wordTokens(text: string): string[] {
  return text.match(WORD_RE) ?? [];
}

/** Python's string.punctuation */
export const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.split(''));

/** Python's str.splitlines() for the usual separators (\n, \r\n, \r) */
export function splitLines(text: string): string[] {
  const l = text.split(/\r\n|\r|\n/);
  if (l.length && l[l.length - 1] === '') l.pop();
  return l;
}

export function hasAlpha(w: string): boolean {
  return /\p{L}/u.test(w);
}

export type Verdict = { keep: true; text?: string } | { keep: false; rule: string };
export const KEEP: Verdict = { keep: true };
export const drop = (rule: string): Verdict => ({ keep: false, rule });
