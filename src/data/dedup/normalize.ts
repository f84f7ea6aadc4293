// Text simplification before shingling, as datatrove's simplify_text does by default: lower case,
// no diacritics (NFKD, marks dropped), digit runs → "0", punctuation, symbols and control characters
// as word breaks, whitespace collapsed. Chinese, Japanese and Korean have no spaces between words, so
// each Han/kana/Hangul character is one word: 5-"word" shingles are then 5-character windows, the usual
// choice for CJK near-dedup.
//
// One pass over the UTF-16 code units with a 64K-entry table built once from the same Unicode rules
// (String#toLowerCase, NFKD, \p{…} classes); a regex per rule was 5–30× slower on Chinese text, where
// every few characters is a punctuation mark.
const KEEP = 0, SEP = 1, DIGIT = 2, DROP = 3, CJK = 4, MULTI = 5;

/** Han (incl. extension A and compatibility), kana and Hangul syllables: one word per character */
export function isCjk(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x31f0 && cp <= 0x31ff) || (cp >= 0xac00 && cp <= 0xd7af) ||
    (cp >= 0x20000 && cp <= 0x2fa1f);
}

function classify(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (/[\s\p{P}\p{S}\p{C}]/u.test(ch)) return SEP;  // before CJK: kana ranges hold marks such as ・
  if (isCjk(cp)) return CJK;
  if (/\p{N}/u.test(ch)) return DIGIT;
  if (/\p{M}/u.test(ch)) return DROP;
  return KEEP;
}

const fold = (s: string) => s.toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '');

let cls: Uint8Array | null = null;
let map: Uint16Array;
const multi = new Map<number, string>();
const astral = new Map<number, string>();

function table(): Uint8Array {
  if (cls) return cls;
  cls = new Uint8Array(65536); map = new Uint16Array(65536);
  for (let cp = 0; cp < 65536; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) { cls[cp] = SEP; continue; }  // pairs are decoded below; a lone half breaks words
    const s = fold(String.fromCharCode(cp));
    if (s.length === 0) cls[cp] = DROP;
    else if (s.length === 1) { cls[cp] = classify(s); map[cp] = s.charCodeAt(0); } else { cls[cp] = MULTI; multi.set(cp, s); }
  }
  return cls;
}

/** Words of `text` joined by single spaces, no leading or trailing space. */
export function simplifyText(text: string): string {
  const c = table();
  let out = new Uint16Array(text.length + 16);
  let n = 0, inWord = false, lastDigit = false;
  const push = (u: number) => { if (n >= out.length) { const b = new Uint16Array(out.length * 2); b.set(out); out = b; } out[n++] = u; };
  const emit = (k: number, u: number, u2: number) => {
    switch (k) {
      case KEEP: if (!inWord && n) push(32); push(u); if (u2) push(u2); inWord = true; lastDigit = false; break;
      case DIGIT: if (!lastDigit) { if (!inWord && n) push(32); push(48); inWord = true; lastDigit = true; } break;
      case SEP: inWord = false; lastDigit = false; break;
      case CJK: if (n) push(32); push(u); if (u2) push(u2); inWord = false; lastDigit = false; break;
      default: break;  // DROP
    }
  };
  const emitString = (s: string) => {
    for (const ch of s) {
      const k = classify(ch);
      emit(k, ch.charCodeAt(0), ch.length > 1 ? ch.charCodeAt(1) : 0);
    }
  };
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    const k = c[u];
    // hot path inlined: letters and separators are nearly every character of Latin-script text
    if (k === KEEP) {
      if (n + 2 > out.length) { const b = new Uint16Array(out.length * 2); b.set(out); out = b; }
      if (!inWord && n) out[n++] = 32;
      out[n++] = map[u]; inWord = true; lastDigit = false;
      continue;
    }
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      const cp = text.codePointAt(i)!;
      i++;
      let s = astral.get(cp);
      if (s === undefined) { s = fold(String.fromCodePoint(cp)); astral.set(cp, s); }
      emitString(s);
      continue;
    }
    if (k === SEP) { inWord = false; lastDigit = false; continue; }
    if (k === MULTI) emitString(multi.get(u)!);
    else emit(k, map[u], 0);
  }
  return utf16.decode(out.subarray(0, n));
}

const utf16 = new TextDecoder('utf-16le');

/** Exact-dedup normal form: case and whitespace differences do not make two documents different. */
export function exactNormalize(text: string): string {
  return text.toLowerCase().replace(/[^\S ]\s*| \s+/g, ' ').trim();
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
