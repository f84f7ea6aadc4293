// Text simplification before shingling, as datatrove's simplify_text does by default: lower case,
// no diacritics, digit runs → "0", punctuation and symbols removed, whitespace collapsed. Chinese,
// Japanese and Korean have no spaces between words, so each Han/kana/Hangul character is one word:
// 5-"word" shingles are then 5-character windows, the usual choice for CJK near-dedup.
const NON_ASCII = /[^\x00-\x7f]/;
const CJK = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])/gu;

/** Words of `text` joined by single spaces, no leading or trailing space. */
export function simplifyText(text: string): string {
  let t = text.toLowerCase();
  if (NON_ASCII.test(t)) {
    t = t.normalize('NFKD').replace(/\p{M}+/gu, '');
    t = t.replace(/\p{N}+/gu, '0').replace(/[\p{P}\p{S}]+/gu, ' ').replace(CJK, ' $1 ');
  } else {
    t = t.replace(/[0-9]+/g, '0').replace(/[!-/:-@[-`{-~]+/g, ' ');
  }
  return t.replace(/\s+/g, ' ').trim();
}

/** Exact-dedup normal form: case and whitespace differences do not make two documents different. */
export function exactNormalize(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The set of n-word shingles of a simplified text (the independent definition tests compare against). */
export function shingleSet(simplified: string, n: number): Set<string> {
  const words = simplified ? simplified.split(' ') : [];
  const out = new Set<string>();
  if (words.length === 0) return out;
  if (words.length < n) { out.add(words.join(' ')); return out; }
  for (let i = 0; i + n <= words.length; i++) out.add(words.slice(i, i + n).join(' '));
  return out;
}

/** Exact Jaccard similarity of two sets. */
export function jaccard<T>(a: Set<T>, b: Set<T>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (big.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}
