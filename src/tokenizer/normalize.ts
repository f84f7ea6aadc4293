// HF `normalizer` JSON, the few kinds byte-level BPE files use. DeepSeek's tokenizer has none.
// With a normalizer, encodeWithOffsets reports offsets into the normalized text.
import { TokenizerError } from './errors.js';
import { compileRegex, escapeLiteral } from './regex.js';

export type NormalizerJson =
  | { type: 'Sequence'; normalizers: NormalizerJson[] }
  | { type: 'NFC' } | { type: 'NFD' } | { type: 'NFKC' } | { type: 'NFKD' }
  | { type: 'Lowercase' }
  | { type: 'Strip'; strip_left: boolean; strip_right: boolean }
  | { type: 'Prepend'; prepend: string }
  | { type: 'Replace'; pattern: { Regex: string } | { String: string }; content: string };

export function compileNormalizer(json: NormalizerJson | null | undefined, path = 'normalizer'): ((s: string) => string) | null {
  if (json === null || json === undefined) return null;
  const bad = (what: string): never => {
    throw new TokenizerError(`${path}: ${what}`, { code: 'E_NORMALIZER', hint: 'supported: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace' });
  };
  switch (json.type) {
    case 'Sequence': {
      if (!Array.isArray(json.normalizers)) bad('Sequence without a "normalizers" array');
      const fs = json.normalizers.map((n, i) => compileNormalizer(n, `${path}.normalizers[${i}]`)).filter((f): f is (s: string) => string => f !== null);
      return (s) => fs.reduce((acc, f) => f(acc), s);
    }
    case 'NFC': case 'NFD': case 'NFKC': case 'NFKD': { const form = json.type; return (s) => s.normalize(form); }
    case 'Lowercase': return (s) => s.toLowerCase();
    case 'Strip': {
      const { strip_left: l, strip_right: r } = json;
      return (s) => (l && r ? s.trim() : l ? s.trimStart() : r ? s.trimEnd() : s);
    }
    case 'Prepend': { const p = json.prepend; return (s) => (s ? p + s : s); }
    case 'Replace': {
      const pat = json.pattern as { Regex?: string; String?: string };
      const re = typeof pat?.Regex === 'string' ? compileRegex(pat.Regex, 'line-end')
        : typeof pat?.String === 'string' ? new RegExp(escapeLiteral(pat.String), 'gu') : bad('Replace needs pattern {"Regex"|"String"}');
      const content = json.content;
      return (s) => s.replace(re, () => content);
    }
    default:
      return bad(`unknown normalizer type ${JSON.stringify((json as { type: unknown }).type)}`);
  }
}
