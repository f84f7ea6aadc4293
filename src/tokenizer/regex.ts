// Translates the regex dialects found in tokenizer files (Oniguruma in HF tokenizer.json, Rust
// fancy-regex in tiktoken, std::regex in llama.cpp) into a JavaScript `u`-flag RegExp with the same
// meaning on the constructs tokenizers use:
//   \s, \S        → Unicode White_Space (what Oniguruma, Rust and llama.cpp mean; JS's own \s adds
//                   U+FEFF and drops U+0085)
//   \d, \w        → their Unicode meanings (\p{Nd}; letters, marks, Nd, Pc)
//   X*+ X++ X?+   → possessive quantifiers and (?>…) atomic groups, as (?=(?<aN>…))\k<aN>
//   (?i:…)        → ASCII letters inside become [xX] (Node 20 has no inline modifiers)
//   \x{…} \A \z \Z \h \R, \p{^X}, script names → JS equivalents
//   $             → end of input ('text-end', Rust/std::regex/tiktoken) or before "\n" or at the end
//                   ('line-end', Oniguruma's Ruby syntax used by HF tokenizers)
// Anything else it cannot map faithfully (class set operations, POSIX brackets, other inline
// flags) is rejected with an error naming the pattern and the offset.
import { TokenizerError } from './errors.js';

export type DollarMode = 'text-end' | 'line-end';

const WS = '\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const WORD = '\\p{L}\\p{M}\\p{Nd}\\p{Pc}';
const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

function propertyEscape(neg: boolean, name: string, where: () => string): string {
  if (name.startsWith('^')) { neg = !neg; name = name.slice(1); }
  const p = neg ? 'P' : 'p';
  for (const cand of [name, `Script=${name}`, `General_Category=${name}`]) {
    try { new RegExp(`\\${p}{${cand}}`, 'u'); return `\\${p}{${cand}}`; } catch { /* try the next spelling */ }
  }
  throw new TokenizerError(`${where()}: unknown Unicode property \\p{${name}}`, { code: 'E_REGEX' });
}

/** Translates `src` to JS regex source; returns the source and the flags it needs besides 'gu'. */
export function translateRegex(src: string, dollar: DollarMode = 'text-end'): { source: string; flags: string } {
  let out = '';
  let flags = '';
  let inClass = false;
  let classNegated = false;
  let atomStart = -1;            // out index where the last complete atom began (outside classes)
  let caseless = 0;              // depth of (?i: … ) groups we are inside
  let nextName = 0;
  const groups: { start: number; kind: 'plain' | 'caseless' | 'atomic'; name?: string }[] = [];
  const where = (i: number) => `regex ${JSON.stringify(src)} at offset ${i}`;
  const fail = (i: number, what: string): never => {
    throw new TokenizerError(`${where(i)}: ${what}`, { code: 'E_REGEX', hint: 'rewrite the pattern without this construct' });
  };

  let i = 0;
  if (src.startsWith('(?i)')) { flags += 'i'; i = 4; }
  while (i < src.length) {
    const c = src[i];
    if (inClass) {
      if (c === ']') { out += ']'; inClass = false; i++; continue; }
      if (c === '[') fail(i, src[i + 1] === ':' ? 'POSIX bracket classes are not supported' : 'nested character classes are not supported');
      if (c === '&' && src[i + 1] === '&') fail(i, 'class intersection (&&) is not supported');
      if (c === '\\') { const [t, n] = escape(i, true); out += t; i += n; continue; }
      const cp = src.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      out += caseless && /[a-zA-Z]/.test(ch) ? ch.toLowerCase() + ch.toUpperCase() : ch;
      i += ch.length;
      continue;
    }
    // outside a class
    if (c === '[') {
      atomStart = out.length;
      inClass = true;
      out += '[';
      i++;
      if (src[i] === '^') { out += '^'; i++; classNegated = true; } else classNegated = false;
      if (src[i] === ']') { out += '\\]'; i++; }  // a leading ] is a literal in Oniguruma and Rust
      continue;
    }
    if (c === '(') {
      if (src.startsWith('(?i:', i)) { groups.push({ start: out.length, kind: 'caseless' }); caseless++; out += '(?:'; i += 4; continue; }
      if (src.startsWith('(?>', i)) {
        const name = `a${nextName++}`;
        groups.push({ start: out.length, kind: 'atomic', name });
        out += `(?=(?<${name}>`; i += 3; continue;
      }
      let opener = '(';
      if (src[i + 1] === '?') {
        const m = /^\(\?(?::|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>)/.exec(src.slice(i, i + 64));
        if (!m) fail(i, `inline flags or group kind ${JSON.stringify(src.slice(i, i + 4))} are not supported`);
        opener = m![0];
      }
      groups.push({ start: out.length, kind: 'plain' });
      out += opener;
      i += opener.length;
      continue;
    }
    if (c === ')') {
      const g = groups.pop();
      if (!g) fail(i, 'unbalanced )');
      if (g!.kind === 'caseless') caseless--;
      out += g!.kind === 'atomic' ? `))\\k<${g!.name}>` : ')';
      atomStart = g!.start;
      i++;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d*,?\d*\}/.test(src.slice(i)))) {
      let q: string;
      if (c === '{') {
        q = src.slice(i, src.indexOf('}', i) + 1);
        if (q.startsWith('{,')) q = '{0' + q.slice(1);
      } else q = c;
      i += c === '{' ? src.indexOf('}', i) + 1 - i : 1;
      if (atomStart < 0) fail(i, 'quantifier without an atom');
      if (src[i] === '+') {          // possessive: match greedily, never give back
        const name = `a${nextName++}`;
        out = out.slice(0, atomStart) + `(?=(?<${name}>` + out.slice(atomStart) + q + `))\\k<${name}>`;
        i++;
      } else {
        out += q;
        if (src[i] === '?') { out += '?'; i++; }   // lazy
      }
      atomStart = -1;
      continue;
    }
    atomStart = out.length;
    if (c === '\\') { const [t, n] = escape(i, false); out += t; i += n; continue; }
    if (c === '$') { out += dollar === 'text-end' ? '$' : '(?=\\n|$)'; i++; continue; }
    if (c === '^') { out += dollar === 'text-end' ? '^' : '(?<=^|\\n)'; i++; continue; }
    const ch = String.fromCodePoint(src.codePointAt(i)!);
    if (caseless && /[a-zA-Z]/.test(ch)) out += `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
    else out += ch === '/' ? '\\/' : ch;
    i += ch.length;
  }
  if (inClass) fail(src.length, 'unterminated character class');
  if (groups.length) fail(src.length, 'unterminated group');
  void classNegated;
  return { source: out, flags };

  // one escape sequence starting at src[i] === '\\': returns [JS text, source chars consumed]
  function escape(i: number, cls: boolean): [string, number] {
    const e = src[i + 1];
    if (e === undefined) fail(i, 'pattern ends with a backslash');
    switch (e) {
      case 's': return [cls ? WS : `[${WS}]`, 2];
      case 'S': return [cls ? '\\P{White_Space}' : `[^${WS}]`, 2];
      case 'd': return ['\\p{Nd}', 2];
      case 'D': return ['\\P{Nd}', 2];
      case 'w': return [cls ? WORD : `[${WORD}]`, 2];
      case 'W': if (cls) fail(i, '\\W inside a class is not supported'); return [`[^${WORD}]`, 2];
      case 'h': return [cls ? '0-9a-fA-F' : '[0-9a-fA-F]', 2];
      case 'p': case 'P': {
        if (src[i + 2] !== '{') { // \pL: one-letter form
          return [propertyEscape(e === 'P', src[i + 2], () => where(i)), 3];
        }
        const close = src.indexOf('}', i);
        if (close < 0) fail(i, 'unterminated \\p{');
        return [propertyEscape(e === 'P', src.slice(i + 3, close), () => where(i)), close + 1 - i];
      }
      case 'x': {
        if (src[i + 2] === '{') {
          const close = src.indexOf('}', i);
          return [`\\u{${src.slice(i + 3, close)}}`, close + 1 - i];
        }
        return [src.slice(i, i + 4), 4];
      }
      case 'u': return [src.slice(i, i + 6), 6];
      case 'A': if (cls) fail(i, '\\A inside a class'); return ['^', 2];
      case 'z': if (cls) fail(i, '\\z inside a class'); return ['$', 2];
      case 'Z': if (cls) fail(i, '\\Z inside a class'); return ['(?=\\n?$)', 2];
      case 'R': if (cls) fail(i, '\\R inside a class'); return ['(?:\\r\\n|[\\n\\v\\f\\r\\x85\\u2028\\u2029])', 2];
      case 'n': case 'r': case 't': case 'f': case 'v': case '0': case 'b': case 'B':
        return [`\\${e}`, 2];
      case 'k': {
        const close = src.indexOf('>', i);
        return [src.slice(i, close + 1), close + 1 - i];
      }
      default: {
        if (e >= '1' && e <= '9') { if (cls) fail(i, 'back-reference inside a class'); return [`\\${e}`, 2]; }
        if (/[A-Za-z]/.test(e)) fail(i, `escape \\${e} is not supported`);
        const ch = String.fromCodePoint(src.codePointAt(i + 1)!);
        // identity escape: JS u-mode only allows it for syntax characters (and - inside a class)
        const keep = SYNTAX.has(ch) || (cls && ch === '-');
        return [keep ? `\\${ch}` : ch, 1 + ch.length];
      }
    }
  }
}

/** Compiles a tokenizer-file regex to a global, Unicode JS RegExp (see translateRegex). */
export function compileRegex(src: string, dollar: DollarMode = 'text-end'): RegExp {
  const { source, flags } = translateRegex(src, dollar);
  try {
    return new RegExp(source, 'gu' + flags);
  } catch (e) {
    throw new TokenizerError(`regex ${JSON.stringify(src)}: translated to /${source}/ which JS rejects: ${(e as Error).message}`, { code: 'E_REGEX' });
  }
}

/** A RegExp that matches `s` literally. */
export function escapeLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
