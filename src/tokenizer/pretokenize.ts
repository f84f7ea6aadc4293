// Pre-tokenizers as data: the HF `pre_tokenizer` JSON (Sequence, Split, Digits, ByteLevel,
// Punctuation, Whitespace, WhitespaceSplit) compiled into one function that cuts text into pieces.
// BPE never merges across pieces. Each stage re-splits the pieces of the stage before it, and
// patterns see one piece at a time (`$` is the end of the piece, look-aheads stop there), which is
// what HF tokenizers and llama.cpp both do.
import { TokenizerError } from './errors.js';
import { compileRegex, escapeLiteral, type DollarMode } from './regex.js';

export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

export type PreTokenizerJson =
  | { type: 'Sequence'; pretokenizers: PreTokenizerJson[] }
  | { type: 'Split'; pattern: { Regex: string } | { String: string }; behavior: SplitBehavior; invert: boolean }
  | { type: 'Digits'; individual_digits: boolean }
  | { type: 'ByteLevel'; add_prefix_space: boolean; trim_offsets?: boolean; use_regex?: boolean }
  | { type: 'Punctuation'; behavior?: SplitBehavior }
  | { type: 'Whitespace' }
  | { type: 'WhitespaceSplit' };

/** GPT-2's split, used by ByteLevel when use_regex is true */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** Receives one piece and its UTF-16 offset in the input. */
export type Emit = (piece: string, start: number) => void;
/**
 * Receives one piece as the range s[a, b) of a string, s[0] being at offset `base` of the input.
 * The first stage cuts the input itself, so with one stage (cl100k, GPT-2, LLaMA-3) no piece is
 * ever made into a string of its own.
 */
export type RangeEmit = (s: string, a: number, b: number, base: number) => void;
/** One stage: cuts the piece s[a, b) and passes each result to `next`. */
type Stage = (s: string, a: number, b: number, base: number, next: RangeEmit) => void;

export interface PreTokenizer {
  readonly json: PreTokenizerJson | null;
  /** true when some stage is ByteLevel (the vocabulary is then byte-level) */
  readonly byteLevel: boolean;
  /** Calls `emit` for each piece of `text`, in order (no arrays in between). */
  each(text: string, emit: Emit): void;
  /** Calls `emit` for each piece of `text` as a range, in order (the encoder's path). */
  ranges(text: string, emit: RangeEmit): void;
  /** The pieces of `text`, for tests and tools. */
  split(text: string): { pieces: string[]; starts: number[] };
}

const BEHAVIORS = new Set(['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']);

/**
 * Compiles pre_tokenizer JSON. `path` names the place in the file for errors; `dollar` is the
 * meaning of `$` in Split regexes ('line-end' for HF files, whose engine is Oniguruma).
 * @example compilePreTokenizer({ type: 'Digits', individual_digits: true }).split('a12').pieces // ['a','1','2']
 */
export function compilePreTokenizer(json: PreTokenizerJson | null, path = 'pre_tokenizer', dollar: DollarMode = 'line-end'): PreTokenizer {
  const stages: Stage[] = [];
  let byteLevel = false;
  const add = (j: PreTokenizerJson, p: string): void => {
    const bad = (what: string): never => {
      throw new TokenizerError(`${p}: ${what}`, { code: 'E_PRETOKENIZER', hint: 'supported: Sequence, Split, Digits, ByteLevel, Punctuation, Whitespace, WhitespaceSplit' });
    };
    if (j === null || typeof j !== 'object') bad(`expected an object, found ${JSON.stringify(j)}`);
    switch (j.type) {
      case 'Sequence':
        if (!Array.isArray(j.pretokenizers)) bad('Sequence without a "pretokenizers" array');
        j.pretokenizers.forEach((s, i) => add(s, `${p}.pretokenizers[${i}]`));
        return;
      case 'Split': {
        const behavior = j.behavior;
        if (!BEHAVIORS.has(behavior)) bad(`Split behavior ${JSON.stringify(behavior)} is unknown (expected one of ${[...BEHAVIORS].join(', ')})`);
        const pat = j.pattern as { Regex?: string; String?: string } | undefined;
        let re: RegExp;
        if (pat && typeof pat.Regex === 'string') {
          try { re = compileRegex(pat.Regex, dollar); } catch (e) { return bad((e as Error).message); }
        } else if (pat && typeof pat.String === 'string') {
          if (pat.String === '') bad('Split with an empty String pattern');
          re = new RegExp(escapeLiteral(pat.String), 'gu');
        } else return bad(`Split pattern must be {"Regex": …} or {"String": …}, found ${JSON.stringify(pat)}`);
        stages.push(splitStage(re, behavior, !!j.invert));
        return;
      }
      case 'Digits':
        stages.push(splitStage(j.individual_digits ? /\p{N}/gu : /\p{N}+/gu, 'Isolated', false));
        return;
      case 'ByteLevel':
        byteLevel = true;
        if (j.add_prefix_space) stages.push(prefixSpaceStage);
        if (j.use_regex !== false) stages.push(splitStage(compileRegex(GPT2_PATTERN), 'Isolated', false));
        return;
      case 'Punctuation':
        // HF: char::is_ascii_punctuation || Unicode punctuation; each character its own piece
        stages.push(splitStage(/[\p{P}!-/:-@[-`{-~]/gu, j.behavior ?? 'Isolated', false));
        return;
      case 'Whitespace':
        stages.push(splitStage(/[\p{L}\p{M}\p{Nd}\p{Pc}]+|[^\p{L}\p{M}\p{Nd}\p{Pc}\p{White_Space}]+/gu, 'Removed', true));
        return;
      case 'WhitespaceSplit':
        stages.push(splitStage(/\p{White_Space}+/gu, 'Removed', false));
        return;
      default:
        bad(`unknown pre-tokenizer type ${JSON.stringify((j as { type: unknown }).type)}`);
    }
  };
  if (json !== null && json !== undefined) add(json, path);
  // chain the stages back to front: stage k hands its pieces to stage k+1
  const chain = (k: number, last: RangeEmit): RangeEmit => {
    if (k === stages.length) return last;
    const st = stages[k], next = chain(k + 1, last);
    return (s, a, b, base) => st(s, a, b, base, next);
  };
  const ranges = (text: string, emit: RangeEmit): void => {
    if (text.length) chain(0, emit)(text, 0, text.length, 0);
  };
  const each = (text: string, emit: Emit): void =>
    ranges(text, (s, a, b, base) => emit(a === 0 && b === s.length ? s : s.slice(a, b), base + a));
  const splitAll = (text: string) => {
    const pieces: string[] = [], starts: number[] = [];
    each(text, (p, s) => { pieces.push(p); starts.push(s); });
    return { pieces, starts };
  };
  return { json, byteLevel, each, ranges, split: splitAll };
}

/** s[a, b) as a string of its own (the piece a stage's regex must see alone) */
const own = (s: string, a: number, b: number) => (a === 0 && b === s.length ? s : s.slice(a, b));

function prefixSpaceStage(s: string, a: number, b: number, base: number, next: RangeEmit): void {
  // HF ByteLevel(add_prefix_space): every piece that does not start with a space gets one
  if (s.charCodeAt(a) === 32) { next(s, a, b, base); return; }
  const p = ' ' + s.slice(a, b);
  next(p, 0, p.length, Math.max(0, base + a - 1));
}

/** One Split stage: finds the matches of `re` in each piece and keeps, drops or merges them per `behavior`. */
function splitStage(re: RegExp, behavior: SplitBehavior, invert: boolean): Stage {
  if (behavior === 'Isolated') {
    // The hot path: every match and every gap between matches is a piece (invert changes nothing).
    // A sticky test at the current position finds the match there without allocating a match
    // array; only where no match starts at the position does a search find the next one.
    // In a Sequence most stages find nothing in most pieces (DeepSeek's digit, CJK and trailing
    // space stages, in English words): after a piece without a match, one test over the whole next
    // piece comes first, and a piece it finds nothing in passes on in one regex call, not two.
    const sticky = new RegExp(re.source, re.flags.replace('g', '') + 'y');
    let lastHadNone = false;
    return (s, a, b, base, next) => {
      const p = own(s, a, b), s0 = base + a, n = p.length;
      if (lastHadNone) {
        re.lastIndex = 0;
        if (!re.test(p)) { next(p, 0, n, s0); return; }
      }
      lastHadNone = false;
      let pos = 0;
      while (pos < n) {
        sticky.lastIndex = pos;
        if (sticky.test(p)) {
          const e = sticky.lastIndex;
          if (e > pos) { next(p, pos, e, s0); pos = e; continue; }
        }
        // no non-empty match at pos: find the next one
        re.lastIndex = pos;
        let m: RegExpExecArray | null;
        while ((m = re.exec(p)) !== null && m[0].length === 0) re.lastIndex = m.index + ((p.codePointAt(m.index) ?? 0) > 0xffff ? 2 : 1);
        if (m === null) { if (pos === 0) lastHadNone = true; next(p, pos, n, s0); return; }
        next(p, pos, m.index, s0);
        next(p, m.index, m.index + m[0].length, s0);
        pos = m.index + m[0].length;
      }
    };
  }
  return (s, a0, b0, base, next) => {
    const p = own(s, a0, b0), s0 = base + a0;
    // spans [a, b, isMatch] covering the piece
    const spans: [number, number, boolean][] = [];
    re.lastIndex = 0;
    let prev = 0, m: RegExpExecArray | null;
    while ((m = re.exec(p)) !== null) {
      const a = m.index, len = m[0].length;
      if (len === 0) { re.lastIndex = a + ((p.codePointAt(a) ?? 0) > 0xffff ? 2 : 1); continue; }
      if (a > prev) spans.push([prev, a, invert]);
      spans.push([a, a + len, !invert]);
      prev = a + len;
    }
    if (prev < p.length) spans.push([prev, p.length, invert]);
    const out: [number, number][] = [];
    if (behavior === 'Removed') {
      for (const [a, b, isMatch] of spans) if (!isMatch) out.push([a, b]);
    } else if (behavior === 'MergedWithPrevious') {
      let prevMatch = false;
      for (const [a, b, isMatch] of spans) {
        if (isMatch && !prevMatch && out.length) out[out.length - 1][1] = b; else out.push([a, b]);
        prevMatch = isMatch;
      }
    } else if (behavior === 'MergedWithNext') {
      let prevMatch = false;
      const rev: [number, number][] = [];
      for (let i = spans.length - 1; i >= 0; i--) {
        const [a, b, isMatch] = spans[i];
        if (isMatch && !prevMatch && rev.length) rev[rev.length - 1][0] = a; else rev.push([a, b]);
        prevMatch = isMatch;
      }
      out.push(...rev.reverse());
    } else { // Contiguous
      let prevMatch: boolean | null = null;
      for (const [a, b, isMatch] of spans) {
        if (isMatch === prevMatch && out.length) out[out.length - 1][1] = b; else out.push([a, b]);
        prevMatch = isMatch;
      }
    }
    for (const [a, b] of out) next(p, a, b, s0);
  };
}
