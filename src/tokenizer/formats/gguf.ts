// Builds a tokenizer from the `tokenizer.ggml.*` keys of a GGUF file. The container itself (header,
// metadata, tensor infos, validation) is parsed by io/gguf.ts; this file only reads the vocabulary.
import { parseGguf, readGguf, type GgufValue } from '../../io/gguf.js';
import { TokenizerError } from '../errors.js';
import { ByteArena, byteLevelToBytes, utf8 } from '../byte-level.js';
import { ggufPreset, ggufPresetNames } from '../presets.js';
import type { AddedToken } from '../added-tokens.js';
import type { TokenizerSpec } from '../tokenizer.js';

export type { GgufValue };

export interface GgufMeta { version: number; tensorCount: number; kv: Map<string, GgufValue> }

/** Parses the header and metadata of a GGUF file held in memory. */
export function parseGgufMeta(buf: Uint8Array, file = '<gguf>'): GgufMeta {
  const f = parseGguf(buf, file);
  return { version: f.version, tensorCount: f.tensors.length, kv: f.kv };
}

/** Reads the header and metadata of a GGUF file (not its tensor data). */
export function readGgufMeta(path: string): GgufMeta {
  const f = readGguf(path);
  return { version: f.version, tensorCount: f.tensors.length, kv: f.kv };
}

// ---- GGUF vocabulary → TokenizerSpec ------------------------------------------------------------

/** llama.cpp token types (tokenizer.ggml.token_type) */
const TOKEN_NORMAL = 1, TOKEN_UNKNOWN = 2, TOKEN_CONTROL = 3, TOKEN_USER_DEFINED = 4, TOKEN_UNUSED = 5;

/**
 * Builds a tokenizer spec from a GGUF vocabulary (`tokenizer.ggml.model` "gpt2", i.e. byte-level
 * BPE). Normal tokens are byte-level text; control tokens become special added tokens and
 * user-defined ones non-special added tokens, matched in raw text as llama.cpp does; unused ones
 * (padding) stay empty.
 */
export function ggufToSpec(meta: GgufMeta, file: string): TokenizerSpec {
  const kv = meta.kv;
  const need = <V>(key: string, check: (v: GgufValue | undefined) => boolean, what: string): V => {
    const v = kv.get(key);
    if (!check(v)) {
      throw new TokenizerError(`${file}: metadata ${key} ${v === undefined ? 'is missing' : `is not ${what}`}`,
        { code: 'E_GGUF_VOCAB', hint: 'the file holds no usable tokenizer' });
    }
    return v as V;
  };
  const model = need<string>('tokenizer.ggml.model', (v) => typeof v === 'string', 'a string');
  if (model !== 'gpt2') {
    throw new TokenizerError(`${file}: tokenizer.ggml.model is ${JSON.stringify(model)}; only byte-level BPE ("gpt2") is supported`, { code: 'E_GGUF_VOCAB' });
  }
  const pre = (kv.get('tokenizer.ggml.pre') as string | undefined) ?? 'default';
  const preset = ggufPreset(pre);
  if (!preset) {
    throw new TokenizerError(`${file}: pre-tokenizer ${JSON.stringify(pre)} (tokenizer.ggml.pre) is not known`,
      { code: 'E_GGUF_PRE', hint: `known: ${ggufPresetNames().join(', ')}` });
  }
  const texts = need<string[]>('tokenizer.ggml.tokens', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'), 'an array of strings');
  const types = (kv.get('tokenizer.ggml.token_type') as number[] | undefined) ?? [];
  const mergeTexts = need<string[]>('tokenizer.ggml.merges', (v) => Array.isArray(v), 'an array of strings');
  if (types.length && types.length !== texts.length) {
    throw new TokenizerError(`${file}: tokenizer.ggml.token_type has ${types.length} entries but tokenizer.ggml.tokens has ${texts.length}`, { code: 'E_GGUF_VOCAB' });
  }
  const tokens: (Uint8Array | null)[] = new Array(texts.length).fill(null);
  const addedTokens: AddedToken[] = [];
  const idOf = new Map<string, number>();
  const arena = new ByteArena();
  for (let id = 0; id < texts.length; id++) {
    const text = texts[id], type = types[id] ?? TOKEN_NORMAL;
    // padding rows ("[PAD100015]" …, as llama.cpp's converter writes them) are no token at all
    if (type === TOKEN_UNUSED) continue;
    if (!idOf.has(text)) idOf.set(text, id);
    if (type === TOKEN_CONTROL || type === TOKEN_USER_DEFINED || type === TOKEN_UNKNOWN) {
      addedTokens.push({ id, content: text, special: type !== TOKEN_USER_DEFINED });
      // a user-defined token spelled as one byte-level character also stands for that byte
      // (DeepSeek's ids 100002–100014 are the 13 bytes that never occur in UTF-8)
      const b = type === TOKEN_USER_DEFINED ? byteLevelToBytes(text, arena) : null;
      if (b && b.length === 1) tokens[id] = b;
      continue;
    }
    tokens[id] = byteLevelToBytes(text, arena) ?? utf8(text);
  }
  const merges: [number, number][] = [];
  for (let r = 0; r < mergeTexts.length; r++) {
    const m = mergeTexts[r];
    const sp = typeof m === 'string' ? m.indexOf(' ', 1) : -1;
    const a = sp > 0 ? idOf.get(m.slice(0, sp)) : undefined, b = sp > 0 ? idOf.get(m.slice(sp + 1)) : undefined;
    if (a === undefined || b === undefined) {
      throw new TokenizerError(`${file}: tokenizer.ggml.merges[${r}] ${JSON.stringify(m)} does not name two tokens of the vocabulary`, { code: 'E_GGUF_VOCAB' });
    }
    merges.push([a, b]);
  }
  const num = (k: string) => { const v = kv.get(k); return typeof v === 'number' ? v : undefined; };
  return {
    name: `${file} (gguf ${preset.name})`,
    tokens, mode: 'merges', merges, ignoreMerges: preset.ignoreMerges,
    preTokenizer: preset.preTokenizer, dollar: 'text-end', normalizer: null,
    addedTokens, bos: num('tokenizer.ggml.bos_token_id'), eos: num('tokenizer.ggml.eos_token_id'),
    addBos: kv.get('tokenizer.ggml.add_bos_token') === true,
    vocabSize: texts.length,
  };
}

/** Loads the tokenizer held in a GGUF file. */
export function loadGgufSpec(path: string): TokenizerSpec {
  return ggufToSpec(readGgufMeta(path), path);
}
