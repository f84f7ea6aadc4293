// A tokenizer's identity for shard headers: a hash of what decides its ids (vocabulary bytes, merges,
// pre-tokenizer, normalizer, added tokens), so that two files holding the same tokenizer agree and a
// changed merge list does not. The file's own bytes would not do: a GGUF and the tokenizer.json
// written from it are the same tokenizer. Left out: padding (trailing ids without bytes), the
// fields of added tokens a format may or may not spell out, and what `$` means in the pre-tokenizer's
// patterns (the end of the text in GGUF, of the line in HF files: the same split for every
// pattern in use, which apply `$` to pieces already cut at newlines).
import { createHash } from 'node:crypto';
import type { Tokenizer } from './tokenizer.js';

/** 'bpe-' + 32 hex digits of SHA-256 (fits the shard header's 64 ASCII characters) */
export function tokenizerFingerprint(tok: Tokenizer): string {
  const h = createHash('sha256');
  const s = tok.spec;
  let n = s.tokens.length;
  while (n > 0 && !s.tokens[n - 1]) n--;
  h.update(`${s.mode}\0${s.ignoreMerges ? 1 : 0}\0${n}\0`);
  const len = Buffer.alloc(4);
  for (const t of s.tokens.slice(0, n)) {
    len.writeInt32LE(t ? t.length : -1);
    h.update(len);
    if (t) h.update(t);
  }
  h.update(Uint32Array.from(tok.bpe.mergeList().flat()));
  const added = s.addedTokens.map((t) => [t.id, t.content, !!t.special, !!t.lstrip, !!t.rstrip, !!t.single_word]);
  h.update(JSON.stringify([s.preTokenizer, s.normalizer ?? null, added, s.bos ?? null, s.eos ?? null]));
  return `bpe-${h.digest('hex').slice(0, 32)}`;
}
