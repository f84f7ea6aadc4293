// Reads the metadata of a GGUF file (v2/v3) and builds a tokenizer from its `tokenizer.ggml.*` keys.
// Only the key/value section is parsed; tensors are ignored. Layout (little-endian):
//   magic "GGUF" · u32 version · u64 n_tensors · u64 n_kv · n_kv × (string key · u32 type · value)
// strings are u64 length + UTF-8 bytes; arrays are u32 item type · u64 count · items.
import { readFileSync } from 'node:fs';
import { TokenizerError } from '../errors.js';
import { byteLevelToBytes, utf8 } from '../byte-level.js';
import { ggufPreset, ggufPresetNames } from '../presets.js';
import type { AddedToken } from '../added-tokens.js';
import type { TokenizerSpec } from '../tokenizer.js';

export type GgufValue = number | bigint | boolean | string | GgufValue[];

const enum T { U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 }
const SCALAR_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

class Reader {
  pos = 0;
  private readonly dv: DataView;
  private readonly b: Buffer;
  constructor(readonly buf: Uint8Array, readonly file: string) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  fail(what: string, at = this.pos): never {
    throw new TokenizerError(`${this.file}: byte ${at}: ${what}`, { code: 'E_GGUF', hint: 'the GGUF file looks truncated or corrupt' });
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) this.fail(`${what} needs ${n} bytes but the file ends at byte ${this.buf.length} (truncated)`);
  }
  u32(what: string): number { this.need(4, what); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  u64(what: string): number {
    this.need(8, what);
    const v = this.dv.getBigUint64(this.pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is implausibly large`);
    this.pos += 8;
    return Number(v);
  }
  str(what: string): string {
    const n = this.u64(`${what} length`);
    this.need(n, what);
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  scalar(type: number, what: string): GgufValue {
    const size = SCALAR_SIZE[type];
    this.need(size, what);
    const p = this.pos, dv = this.dv;
    this.pos += size;
    switch (type) {
      case T.U8: return dv.getUint8(p);
      case T.I8: return dv.getInt8(p);
      case T.U16: return dv.getUint16(p, true);
      case T.I16: return dv.getInt16(p, true);
      case T.U32: return dv.getUint32(p, true);
      case T.I32: return dv.getInt32(p, true);
      case T.F32: return dv.getFloat32(p, true);
      case T.BOOL: return dv.getUint8(p) !== 0;
      case T.U64: { const v = dv.getBigUint64(p, true); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
      case T.I64: { const v = dv.getBigInt64(p, true); return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
      case T.F64: return dv.getFloat64(p, true);
    }
    return this.fail(`${what}: unknown value type ${type}`, p);
  }
  value(type: number, what: string): GgufValue {
    if (type === T.STRING) return this.str(what);
    if (type === T.ARRAY) {
      const at = this.pos;
      const itemType = this.u32(`${what} item type`);
      const n = this.u64(`${what} item count`);
      if (itemType !== T.STRING && itemType !== T.ARRAY && SCALAR_SIZE[itemType] === undefined) this.fail(`${what}: unknown array item type ${itemType}`, at);
      // each item takes at least one byte: reject counts the file cannot hold before allocating
      if (n > this.buf.length - this.pos) this.fail(`${what}: array of ${n} items cannot fit in the ${this.buf.length - this.pos} bytes left (truncated)`, at);
      const out: GgufValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = this.value(itemType, what);
      return out;
    }
    if (SCALAR_SIZE[type] === undefined) this.fail(`${what}: unknown value type ${type}`);
    return this.scalar(type, what);
  }
}

export interface GgufMeta { version: number; tensorCount: number; kv: Map<string, GgufValue> }

/** Parses the header and metadata of a GGUF file held in memory. */
export function parseGgufMeta(buf: Uint8Array, file = '<gguf>'): GgufMeta {
  const r = new Reader(buf, file);
  r.need(4, 'magic');
  const magic = Buffer.from(buf.subarray(0, 4)).toString('latin1');
  if (magic !== 'GGUF') {
    throw new TokenizerError(`${file}: byte 0: bad magic ${JSON.stringify(magic)}, expected "GGUF"`,
      { code: 'E_GGUF_MAGIC', hint: 'this is not a GGUF file' });
  }
  r.pos = 4;
  const version = r.u32('version');
  if (version < 2 || version > 3) {
    throw new TokenizerError(`${file}: byte 4: GGUF version ${version} is not supported (expected 2 or 3)`,
      { code: 'E_GGUF_VERSION', hint: 'convert the file with a current llama.cpp' });
  }
  const tensorCount = r.u64('tensor count');
  const nkv = r.u64('metadata count');
  const kv = new Map<string, GgufValue>();
  for (let i = 0; i < nkv; i++) {
    const key = r.str(`metadata key #${i}`);
    const type = r.u32(`type of ${key}`);
    kv.set(key, r.value(type, key));
  }
  return { version, tensorCount, kv };
}

export function readGgufMeta(path: string): GgufMeta {
  return parseGgufMeta(readFileSync(path), path);
}

// ---- GGUF vocabulary → TokenizerSpec ------------------------------------------------------------

/** llama.cpp token types (tokenizer.ggml.token_type) */
const TOKEN_NORMAL = 1, TOKEN_UNKNOWN = 2, TOKEN_CONTROL = 3, TOKEN_USER_DEFINED = 4;

/**
 * Builds a tokenizer spec from a GGUF vocabulary (`tokenizer.ggml.model` "gpt2", i.e. byte-level
 * BPE). Normal tokens are byte-level text; control tokens become special added tokens and
 * user-defined ones non-special added tokens, matched in raw text as llama.cpp does.
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
  for (let id = 0; id < texts.length; id++) {
    const text = texts[id], type = types[id] ?? TOKEN_NORMAL;
    if (!idOf.has(text)) idOf.set(text, id);
    if (type === TOKEN_CONTROL || type === TOKEN_USER_DEFINED || type === TOKEN_UNKNOWN) {
      addedTokens.push({ id, content: text, special: type !== TOKEN_USER_DEFINED });
      // a user-defined token spelled as one byte-level character also stands for that byte
      // (DeepSeek's ids 100002–100014 are the 13 bytes that never occur in UTF-8)
      const b = type === TOKEN_USER_DEFINED ? byteLevelToBytes(text) : null;
      if (b && b.length === 1) tokens[id] = b;
      continue;
    }
    const b = byteLevelToBytes(text);
    tokens[id] = b ?? utf8(text);
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
