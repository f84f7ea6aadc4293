// The tokenizer: added tokens → normalizer → pre-tokenizer → byte-level BPE, and back.
// A `TokenizerSpec` is plain data (what every file format reads into and writes from, and what the
// worker pool ships to its threads); `Tokenizer` compiles it once and encodes/decodes.
import { encodeUtf8Into } from './byte-level.js';
import { BpeModel } from './bpe.js';
import { IdBuffer } from './id-buffer.js';
import { AddedTokens, type AddedToken, type SpecialMode } from './added-tokens.js';
import { compileNormalizer, type NormalizerJson } from './normalize.js';
import { compilePreTokenizer, type PreTokenizer, type PreTokenizerJson } from './pretokenize.js';
import type { DollarMode } from './regex.js';
import { Utf8Decoder } from './utf8.js';
import { TokenizerError } from './errors.js';

export interface TokenizerSpec {
  /** where it came from, for messages ("gguf:deepseek-llm", a path, …) */
  name: string;
  /** bytes of each ordinary token by id; null for ids that are added tokens or padding */
  tokens: (Uint8Array | null)[];
  mode: 'merges' | 'ranks';
  /** [left id, right id] in rank order (mode 'merges') */
  merges?: [number, number][];
  ignoreMerges?: boolean;
  preTokenizer: PreTokenizerJson | null;
  /** meaning of `$` in the pre-tokenizer's regexes: 'line-end' for HF files (Oniguruma) */
  dollar: DollarMode;
  normalizer?: NormalizerJson | null;
  addedTokens: AddedToken[];
  bos?: number;
  eos?: number;
  /** whether this tokenizer adds BOS by default (HF post_processor / GGUF add_bos_token) */
  addBos?: boolean;
  /** embedding rows (≥ every id): the paper pads 100,015 real tokens to 102,400 (DeepSeek LLM §2.1) */
  vocabSize: number;
}

export interface EncodeOptions {
  /** prepend the BOS id (default false: ids of the text alone) */
  addBos?: boolean;
  /** special tokens written in the text: 'none' (default) encodes them as text, 'all' as ids */
  special?: SpecialMode;
}

export interface StreamDecoder {
  /** text completed by this id (never half a character) */
  push(id: number): string;
  /** whatever is held back, with U+FFFD for an unfinished character */
  flush(): string;
  /** replacement characters produced so far */
  readonly invalid: number;
}

export class Tokenizer {
  readonly spec: TokenizerSpec;
  readonly bpe: BpeModel;
  readonly pre: PreTokenizer;
  readonly added: AddedTokens;
  readonly vocabSize: number;
  private normalize: ((s: string) => string) | null;
  private scratch = { buf: new Uint8Array(1024) };
  /** decode bytes of every id: ordinary tokens' bytes, added tokens' UTF-8 text */
  private idBytes: (Uint8Array | null)[];
  private special: Uint8Array;
  private asciiId = new Int32Array(128);
  /** whether text encoded with special: 'none' can hold added tokens (non-special ones) */
  private plainTextMatches: boolean;

  constructor(spec: TokenizerSpec) {
    this.spec = spec;
    this.bpe = new BpeModel({ tokens: spec.tokens, merges: spec.merges, mode: spec.mode, ignoreMerges: spec.ignoreMerges });
    this.pre = compilePreTokenizer(spec.preTokenizer, 'pre_tokenizer', spec.dollar);
    this.normalize = compileNormalizer(spec.normalizer);
    this.added = new AddedTokens(spec.addedTokens);
    this.plainTextMatches = this.added.canMatch('none');
    let maxId = spec.tokens.length - 1;
    for (const t of spec.addedTokens) maxId = Math.max(maxId, t.id);
    if (spec.vocabSize <= maxId) {
      throw new TokenizerError(`${spec.name}: vocab size ${spec.vocabSize} is smaller than the largest id + 1 (${maxId + 1})`, { code: 'E_VOCAB_SIZE' });
    }
    this.vocabSize = spec.vocabSize;
    this.idBytes = spec.tokens.slice();
    this.idBytes.length = spec.vocabSize;
    this.special = new Uint8Array(spec.vocabSize);
    const enc = new TextEncoder();
    for (const t of spec.addedTokens) {
      this.idBytes[t.id] = enc.encode(t.content);
      if (t.special) this.special[t.id] = 1;
    }
    for (let c = 0; c < 128; c++) this.asciiId[c] = this.bpe.byteId[c];
  }

  /** ids of `text` (no BOS unless asked for). */
  encode(text: string, opts: EncodeOptions = {}): Uint32Array {
    // sized for CJK text (~1.6 ids per character) so that it never grows: a grow copies into
    // fresh memory, and first touches of fresh pages are costly here (+7% on Chinese, 3.6 MB)
    const out = new IdBuffer(((text.length * 7) >> 2) + 16);
    this.appendEncoded(text, out, opts);
    return out.toArray();
  }

  /** Appends what `encode(text, opts)` returns to `out` (no buffer per text: batch encoders use it). */
  appendEncoded(text: string, out: IdBuffer, opts: EncodeOptions = {}): void {
    if (opts.addBos) out.push(this.requireBos());
    const special = opts.special ?? 'none';
    // no added token can come out of the text: skip the scan and its per-text segment objects
    if (special === 'none' && !this.plainTextMatches) { this.encodeInto(text, out); return; }
    for (const seg of this.added.split(text, special)) {
      if ('id' in seg) { out.push(seg.id); continue; }
      this.encodeInto(seg.text, out);
    }
  }

  /** Encodes text that holds no added tokens (no special-token scan). */
  encodeOrdinary(text: string): Uint32Array {
    const out = new IdBuffer((text.length >> 1) + 16);
    this.encodeInto(text, out);
    return out.toArray();
  }

  /** Appends the ids of text without added tokens to `out`. */
  encodeInto(text: string, out: IdBuffer): void {
    const t = this.normalize ? this.normalize(text) : text;
    const bpe = this.bpe, ascii = this.asciiId, scratch = this.scratch;
    this.pre.ranges(t, (s, a, b) => {
      if (b - a === 1) {
        const c = s.charCodeAt(a);
        if (c < 128) { out.push(ascii[c]); return; }
      }
      bpe.encodeRange(s, a, b, scratch, out);
    });
  }

  /** ids with the [start, end) UTF-16 offsets of the text each covers (a token inside a character covers that character). */
  encodeWithOffsets(text: string, opts: EncodeOptions = {}): { ids: Uint32Array; offsets: [number, number][] } {
    const ids = new IdBuffer(), offsets: [number, number][] = [];
    if (opts.addBos) { ids.push(this.requireBos()); offsets.push([0, 0]); }
    for (const seg of this.added.split(text, opts.special ?? 'none')) {
      if ('id' in seg) { ids.push(seg.id); offsets.push([seg.start, seg.end]); continue; }
      const t = this.normalize ? this.normalize(seg.text) : seg.text;
      const { pieces, starts } = this.pre.split(t);
      for (let i = 0; i < pieces.length; i++) {
        const p = pieces[i];
        const n = encodeUtf8Into(p, 0, p.length, this.scratch);
        // byte index → UTF-16 index of the character holding it
        const charAt = new Int32Array(n + 1);
        for (let ci = 0, bi = 0; ci < p.length; ci++) {
          const c = p.codePointAt(ci)!;
          const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
          for (let k = 0; k < len; k++) charAt[bi + k] = ci;
          bi += len;
          if (c > 0xffff) ci++;
        }
        charAt[n] = p.length;
        const before = ids.n;
        if (this.bpe.ignoreMerges && this.bpe.bytesToId.get(this.scratch.buf, 0, n) >= 0) ids.push(this.bpe.bytesToId.get(this.scratch.buf, 0, n));
        else this.bpe.mergeBytes(this.scratch.buf, n, ids);
        let b = 0;
        for (let k = before; k < ids.n; k++) {
          const len = this.bpe.tokens[ids.a[k]]?.length ?? 1;
          const s = charAt[b], lastChar = charAt[b + len - 1];
          const e = lastChar + ((p.codePointAt(lastChar) ?? 0) > 0xffff ? 2 : 1);
          offsets.push([seg.start + starts[i] + s, seg.start + starts[i] + Math.min(e, p.length)]);
          b += len;
        }
      }
    }
    return { ids: ids.toArray(), offsets };
  }

  /** The bytes an id stands for (added tokens: their text). */
  tokenBytes(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new TokenizerError(`${this.spec.name}: token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`, { code: 'E_TOKEN_ID' });
    }
    return this.idBytes[id] ?? EMPTY;
  }

  isSpecial(id: number): boolean { return this.special[id] === 1; }

  decodeBytes(ids: ArrayLike<number>, opts: { skipSpecial?: boolean } = {}): Uint8Array {
    let n = 0;
    for (let i = 0; i < ids.length; i++) if (!(opts.skipSpecial && this.special[ids[i]])) n += this.tokenBytes(ids[i]).length;
    const out = new Uint8Array(n);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      if (opts.skipSpecial && this.special[ids[i]]) continue;
      const b = this.tokenBytes(ids[i]);
      out.set(b, o); o += b.length;
    }
    return out;
  }

  /** Text of ids; bytes that are not valid UTF-8 become U+FFFD (counted in `invalid`). */
  decodeWithStats(ids: ArrayLike<number>, opts: { skipSpecial?: boolean } = {}): { text: string; invalid: number } {
    const d = new Utf8Decoder();
    const text = d.decode(this.decodeBytes(ids, opts));
    return { text, invalid: d.invalid };
  }

  decode(ids: ArrayLike<number>, opts: { skipSpecial?: boolean } = {}): string {
    return this.decodeWithStats(ids, opts).text;
  }

  /** A decoder fed one id at a time that only ever returns whole characters. */
  streamDecoder(opts: { skipSpecial?: boolean } = {}): StreamDecoder {
    const d = new Utf8Decoder();
    return {
      push: (id) => (opts.skipSpecial && this.special[id] ? '' : d.decode(this.tokenBytes(id), true)),
      flush: () => d.decode(EMPTY, false),
      get invalid() { return d.invalid; },
    };
  }

  private requireBos(): number {
    if (this.spec.bos === undefined) throw new TokenizerError(`${this.spec.name}: asked to add BOS but the tokenizer has no BOS token`, { code: 'E_NO_BOS' });
    return this.spec.bos;
  }
}

const EMPTY = new Uint8Array(0);
