// Added tokens (specials such as <｜begin▁of▁sentence｜>, and user-defined ones) are found in the raw
// text before pre-tokenization and become one id each. Matching is leftmost-longest over all
// tokens that the caller allows. Special (control) tokens are matched only when asked for: by
// default text that looks like a special token is encoded as ordinary text, as llama.cpp does with
// parse_special = false; non-special added tokens are always matched (HF and llama.cpp agree).
import { TokenizerError } from './errors.js';

export interface AddedToken {
  id: number;
  content: string;
  /** a control token (BOS, EOS, …) rather than a user-defined piece of text */
  special: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  single_word?: boolean;
  normalized?: boolean;
}

/**
 * How special tokens in the text are treated: 'none' encodes them as text; 'all' turns each into its
 * id; 'error' refuses text containing one (tiktoken's default); a list allows those named only.
 */
export type SpecialMode = 'none' | 'all' | 'error' | readonly string[];

export type Segment = { text: string; start: number } | { id: number; start: number; end: number };

const isWs = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 0x85 || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x1680;
const isWordChar = (s: string, i: number) => i >= 0 && i < s.length && /[\p{L}\p{N}_]/u.test(String.fromCodePoint(s.codePointAt(i)!));

export class AddedTokens {
  readonly list: readonly AddedToken[];
  readonly byContent = new Map<string, AddedToken>();
  private byFirst = new Map<number, AddedToken[]>();
  private firstRe: RegExp | null = null;

  constructor(tokens: AddedToken[]) {
    this.list = tokens;
    for (const t of tokens) {
      if (!t.content) throw new TokenizerError(`added token id ${t.id} has empty content`, { code: 'E_ADDED_TOKEN' });
      const dup = this.byContent.get(t.content);
      if (dup) {
        throw new TokenizerError(`added token ${JSON.stringify(t.content)} appears twice (ids ${dup.id} and ${t.id})`,
          { code: 'E_DUPLICATE_SPECIAL', hint: 'each special or added token needs distinct text' });
      }
      this.byContent.set(t.content, t);
      const f = t.content.charCodeAt(0);
      let arr = this.byFirst.get(f);
      if (!arr) this.byFirst.set(f, arr = []);
      arr.push(t);
    }
    for (const arr of this.byFirst.values()) arr.sort((a, b) => b.content.length - a.content.length);
    if (this.byFirst.size) {
      const cls = [...this.byFirst.keys()].map((c) => '\\u' + c.toString(16).padStart(4, '0')).join('');
      this.firstRe = new RegExp(`[${cls}]`, 'g');
    }
  }

  /**
   * Whether any added token can be taken from text under `mode` (or refused, for 'error'). When
   * not (the usual case: only special tokens, encoded as text), the encoder skips the scan.
   */
  canMatch(mode: SpecialMode): boolean {
    if (!this.list.length) return false;
    if (mode === 'all' || mode === 'error') return true;
    return this.list.some((t) => !t.special || (Array.isArray(mode) && mode.includes(t.content)));
  }

  /** Cuts text into plain-text segments and added-token ids. */
  split(text: string, mode: SpecialMode): Segment[] {
    const re = this.firstRe;
    if (!re) return text ? [{ text, start: 0 }] : [];
    const allowed = Array.isArray(mode) ? new Set(mode) : null;
    const accept = (t: AddedToken) => !t.special || mode === 'all' || mode === 'error' || (allowed !== null && allowed.has(t.content));
    const out: Segment[] = [];
    let last = 0;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const i = m.index;
      let hit: AddedToken | undefined;
      for (const t of this.byFirst.get(text.charCodeAt(i))!) {
        if (!text.startsWith(t.content, i) || !accept(t)) continue;
        if (t.single_word && (isWordChar(text, i - 1) || isWordChar(text, i + t.content.length))) continue;
        hit = t; break;
      }
      if (!hit) continue;
      if (mode === 'error' && hit.special) {
        throw new TokenizerError(`text contains the special token ${JSON.stringify(hit.content)} at offset ${i}`,
          { code: 'E_DISALLOWED_SPECIAL', hint: 'allow special tokens to encode it as a token, or none to encode it as text' });
      }
      let a = i, b = i + hit.content.length;
      if (hit.lstrip) while (a > last && isWs(text.charCodeAt(a - 1))) a--;
      if (hit.rstrip) while (b < text.length && isWs(text.charCodeAt(b))) b++;
      if (a > last) out.push({ text: text.slice(last, a), start: last });
      out.push({ id: hit.id, start: a, end: b });
      last = b;
      re.lastIndex = b;
    }
    if (last < text.length) out.push({ text: last === 0 ? text : text.slice(last), start: last });
    return out;
  }
}
