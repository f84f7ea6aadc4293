// The GGUF container (llama.cpp's file format, versions 2 and 3), read side. Layout, little-endian:
//   "GGUF" · u32 version · u64 n_tensors · u64 n_kv
//   n_kv × (string key · u32 value type · value)         strings: u64 length + UTF-8 bytes
//                                                          arrays: u32 item type · u64 count · items
//   n_tensors × (string name · u32 n_dims · u64 ne[n_dims] · u32 ggml type · u64 offset)
//   padding to `general.alignment` (default 32) · tensor data (each offset relative to this point)
// ne[0] is the fastest-varying dimension (a row), so an HF weight [out, in] has ne = [in, out].
// The parser reads only the header (growing a window over the file as it goes), so a 14 GB model
// costs a few MB to open; tensor bytes are read on demand. Every inconsistency a truncated or hostile
// file can hold is an error naming the file and the byte position.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export class GgufError extends Error {
  readonly code: string;
  readonly hint?: string;
  constructor(message: string, opts: { code: string; hint?: string }) {
    super(opts.hint ? `${message} (${opts.hint})` : message);
    this.name = 'GgufError';
    this.code = opts.code;
    this.hint = opts.hint;
  }
}

export type GgufValue = number | bigint | boolean | string | GgufValue[];

/** metadata value types */
export const enum GgufType { U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 }
const SCALAR_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** ggml tensor types: id → name, elements per block, bytes per block (ggml.c's type_traits) */
export const GGML_TYPES: Record<number, { name: string; block: number; bytes: number }> = {
  0: { name: 'F32', block: 1, bytes: 4 }, 1: { name: 'F16', block: 1, bytes: 2 },
  2: { name: 'Q4_0', block: 32, bytes: 18 }, 3: { name: 'Q4_1', block: 32, bytes: 20 },
  6: { name: 'Q5_0', block: 32, bytes: 22 }, 7: { name: 'Q5_1', block: 32, bytes: 24 },
  8: { name: 'Q8_0', block: 32, bytes: 34 }, 9: { name: 'Q8_1', block: 32, bytes: 36 },
  10: { name: 'Q2_K', block: 256, bytes: 84 }, 11: { name: 'Q3_K', block: 256, bytes: 110 },
  12: { name: 'Q4_K', block: 256, bytes: 144 }, 13: { name: 'Q5_K', block: 256, bytes: 176 },
  14: { name: 'Q6_K', block: 256, bytes: 210 }, 15: { name: 'Q8_K', block: 256, bytes: 292 },
  16: { name: 'IQ2_XXS', block: 256, bytes: 66 }, 17: { name: 'IQ2_XS', block: 256, bytes: 74 },
  18: { name: 'IQ3_XXS', block: 256, bytes: 98 }, 19: { name: 'IQ1_S', block: 256, bytes: 50 },
  20: { name: 'IQ4_NL', block: 32, bytes: 18 }, 21: { name: 'IQ3_S', block: 256, bytes: 110 },
  22: { name: 'IQ2_S', block: 256, bytes: 82 }, 23: { name: 'IQ4_XS', block: 256, bytes: 136 },
  24: { name: 'I8', block: 1, bytes: 1 }, 25: { name: 'I16', block: 1, bytes: 2 },
  26: { name: 'I32', block: 1, bytes: 4 }, 27: { name: 'I64', block: 1, bytes: 8 },
  28: { name: 'F64', block: 1, bytes: 8 }, 29: { name: 'IQ1_M', block: 256, bytes: 56 },
  30: { name: 'BF16', block: 1, bytes: 2 }, 34: { name: 'TQ1_0', block: 256, bytes: 54 },
  35: { name: 'TQ2_0', block: 256, bytes: 66 }, 39: { name: 'MXFP4', block: 32, bytes: 17 },
};
export const GGML = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, BF16: 30 } as const;

/** bytes of a tensor of `ne` elements (ne[0] a multiple of the block size) */
export function ggmlBytes(type: number, ne: readonly number[]): number {
  const t = GGML_TYPES[type];
  return (ne.reduce((a, b) => a * b, 1) / t.block) * t.bytes;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml order: ne[0] is the row length */
  ne: number[];
  type: number;
  typeName: string;
  /** offset in the data section (as stored) */
  offset: number;
  /** absolute file offset */
  fileOffset: number;
  nbytes: number;
}

export interface GgufFile {
  path: string;
  version: number;
  kv: Map<string, GgufValue>;
  /** the value type each key was stored with (arrays: ARRAY) */
  kvTypes: Map<string, number>;
  tensors: GgufTensorInfo[];
  byName: Map<string, GgufTensorInfo>;
  alignment: number;
  /** absolute offset of the data section */
  dataOffset: number;
  fileSize: number;
}

const MAX_DIMS = 4;

/** A cursor over the file's bytes: a window that grows from the file on demand. */
class Reader {
  pos = 0;
  private buf: Uint8Array;
  private dv: DataView;
  private text: Buffer;  // the same bytes, for decoding strings without a view per string
  constructor(buf: Uint8Array, readonly file: string, readonly size: number, private readonly more?: (upTo: number) => Uint8Array) {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  fail(what: string, at = this.pos, code = 'E_GGUF', hint = 'the GGUF file looks truncated or corrupt'): never {
    throw new GgufError(`${this.file}: byte ${at}: ${what}`, { code, hint });
  }
  need(n: number, what: string): void {
    const end = this.pos + n;
    if (end > this.size) this.fail(`${what} needs ${n} bytes but the file ends at byte ${this.size} (truncated)`);
    if (end > this.buf.length && this.more) {
      this.buf = this.more(Math.min(this.size, Math.max(end, this.buf.length * 2)));
      this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      this.text = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
  }
  u32(what: string): number { this.need(4, what); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  u64(what: string): number {
    this.need(8, what);
    // two u32 halves, not a BigInt: this runs for every string of a 100k-token vocabulary
    const lo = this.dv.getUint32(this.pos, true), hi = this.dv.getUint32(this.pos + 4, true);
    if (hi >= 0x200000) this.fail(`${what} ${this.dv.getBigUint64(this.pos, true)} is implausibly large`);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }
  str(what: string): string {
    const at = this.pos;
    const n = this.u64(`${what} length`);
    if (n > this.size - this.pos) this.fail(`${what}: string of ${n} bytes runs past the end of the file (${this.size} bytes, truncated)`, at);
    this.need(n, what);
    const s = this.text.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  scalar(type: number, what: string): GgufValue {
    const size = SCALAR_SIZE[type];
    this.need(size, what);
    const p = this.pos, dv = this.dv;
    this.pos += size;
    switch (type) {
      case GgufType.U8: return dv.getUint8(p);
      case GgufType.I8: return dv.getInt8(p);
      case GgufType.U16: return dv.getUint16(p, true);
      case GgufType.I16: return dv.getInt16(p, true);
      case GgufType.U32: return dv.getUint32(p, true);
      case GgufType.I32: return dv.getInt32(p, true);
      case GgufType.F32: return dv.getFloat32(p, true);
      case GgufType.BOOL: return dv.getUint8(p) !== 0;
      case GgufType.U64: { const v = dv.getBigUint64(p, true); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
      case GgufType.I64: { const v = dv.getBigInt64(p, true); return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
      case GgufType.F64: return dv.getFloat64(p, true);
    }
    return this.fail(`${what}: unknown value type ${type}`, p);
  }
  value(type: number, what: string): GgufValue {
    if (type === GgufType.STRING) return this.str(what);
    if (type === GgufType.ARRAY) {
      const at = this.pos;
      const itemType = this.u32(`${what} item type`);
      const n = this.u64(`${what} item count`);
      if (itemType !== GgufType.STRING && itemType !== GgufType.ARRAY && SCALAR_SIZE[itemType] === undefined) this.fail(`${what}: unknown array item type ${itemType}`, at);
      // each item takes at least one byte: reject counts the file cannot hold before allocating
      if (n > this.size - this.pos) this.fail(`${what}: array of ${n} items cannot fit in the ${this.size - this.pos} bytes left (truncated)`, at);
      const out: GgufValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = this.value(itemType, what);
      return out;
    }
    if (SCALAR_SIZE[type] === undefined) this.fail(`${what}: unknown value type ${type}`);
    return this.scalar(type, what);
  }
}

function parse(r: Reader): Omit<GgufFile, 'path'> {
  const file = r.file;
  r.need(4, 'magic');
  const magic = Buffer.from([0, 1, 2, 3].map((i) => r.scalar(GgufType.U8, 'magic') as number)).toString('latin1');
  if (magic !== 'GGUF') {
    throw new GgufError(`${file}: byte 0: bad magic ${JSON.stringify(magic)}, expected "GGUF"`, { code: 'E_GGUF_MAGIC', hint: 'this is not a GGUF file' });
  }
  const version = r.u32('version');
  if (version < 2 || version > 3) {
    throw new GgufError(`${file}: byte 4: GGUF version ${version} is not supported (expected 2 or 3)`,
      { code: 'E_GGUF_VERSION', hint: 'convert the file with a current llama.cpp' });
  }
  const tensorCount = r.u64('tensor count');
  const nkv = r.u64('metadata count');
  const kv = new Map<string, GgufValue>(), kvTypes = new Map<string, number>();
  for (let i = 0; i < nkv; i++) {
    const at = r.pos;
    const key = r.str(`metadata key #${i}`);
    if (kv.has(key)) r.fail(`metadata key ${JSON.stringify(key)} appears twice`, at);
    const type = r.u32(`type of ${key}`);
    kvTypes.set(key, type);
    kv.set(key, r.value(type, key));
  }
  let alignment = 32;
  if (kv.has('general.alignment')) {
    const a = kv.get('general.alignment');
    if (typeof a !== 'number' || a <= 0 || (a & (a - 1)) !== 0) r.fail(`general.alignment ${String(a)} is not a power of two`, 0, 'E_GGUF_ALIGN');
    alignment = a;
  }
  // each tensor info takes at least 8 + 4 + 4 + 8 bytes
  if (tensorCount > (r.size - r.pos) / 24) r.fail(`${tensorCount} tensor infos cannot fit in the ${r.size - r.pos} bytes left (truncated)`);
  const tensors: GgufTensorInfo[] = [];
  const byName = new Map<string, GgufTensorInfo>();
  const at: number[] = [];
  for (let i = 0; i < tensorCount; i++) {
    at.push(r.pos);
    const name = r.str(`tensor #${i} name`);
    if (byName.has(name)) r.fail(`tensor ${JSON.stringify(name)} appears twice`, at[i]);
    const nd = r.u32(`tensor ${name} dimension count`);
    if (nd < 1 || nd > MAX_DIMS) r.fail(`tensor ${name}: ${nd} dimensions (ggml allows 1 to ${MAX_DIMS})`, at[i]);
    const ne: number[] = [];
    for (let d = 0; d < nd; d++) ne.push(r.u64(`tensor ${name} ne[${d}]`));
    const typeAt = r.pos;
    const type = r.u32(`tensor ${name} type`);
    const t = GGML_TYPES[type];
    if (!t) r.fail(`tensor ${name}: unknown ggml type ${type}`, typeAt, 'E_GGUF_TYPE', `known: ${Object.values(GGML_TYPES).map((x) => x.name).join(', ')}`);
    const offset = r.u64(`tensor ${name} offset`);
    if (ne[0] % t.block !== 0) r.fail(`tensor ${name}: row length ne[0]=${ne[0]} is not a multiple of ${t.name}'s block of ${t.block}`, at[i]);
    if (offset % alignment !== 0) r.fail(`tensor ${name}: offset ${offset} is not a multiple of the alignment ${alignment}`, at[i]);
    const info: GgufTensorInfo = { name, ne, type, typeName: t.name, offset, fileOffset: 0, nbytes: ggmlBytes(type, ne) };
    tensors.push(info);
    byName.set(name, info);
  }
  const dataOffset = Math.ceil(r.pos / alignment) * alignment;
  const dataLen = r.size - dataOffset;
  tensors.forEach((t, i) => {
    t.fileOffset = dataOffset + t.offset;
    if (t.offset + t.nbytes > dataLen) {
      r.fail(`tensor ${t.name}: data [${t.offset}, ${t.offset + t.nbytes}) runs past the data section (${Math.max(0, dataLen)} bytes from byte ${dataOffset}; truncated?)`, at[i]);
    }
  });
  const sorted = tensors.map((t, i) => ({ t, i })).sort((a, b) => a.t.offset - b.t.offset);
  for (let k = 1; k < sorted.length; k++) {
    const p = sorted[k - 1].t, q = sorted[k].t;
    if (q.offset < p.offset + p.nbytes) r.fail(`tensors ${p.name} and ${q.name} overlap (data [${p.offset}, ${p.offset + p.nbytes}) and [${q.offset}, …))`, at[sorted[k].i]);
  }
  return { version, kv, kvTypes, tensors, byName, alignment, dataOffset, fileSize: r.size };
}

/** Parses a GGUF file held in memory (header, metadata, tensor infos). */
export function parseGguf(buf: Uint8Array, file = '<gguf>'): GgufFile {
  return { path: file, ...parse(new Reader(buf, file, buf.length)) };
}

/** Parses a GGUF file's header from disk, reading only as much as the header takes. */
export function readGguf(path: string): GgufFile {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) {
    throw new GgufError(`${path}: cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { code: 'E_NO_FILE' });
  }
  try {
    const size = fstatSync(fd).size;
    const grow = (upTo: number): Uint8Array => {
      const b = Buffer.alloc(upTo);
      let done = 0;
      while (done < upTo) {
        const n = readSync(fd, b, done, upTo - done, done);
        if (n === 0) break;
        done += n;
      }
      return b;
    };
    return { path, ...parse(new Reader(grow(Math.min(size, 1 << 20)), path, size, grow)) };
  } finally {
    closeSync(fd);
  }
}

/** Reads one tensor's stored bytes (any ggml type, as in the file). */
export function readGgufTensor(f: GgufFile, name: string): Uint8Array {
  const t = f.byName.get(name);
  if (!t) throw new GgufError(`${f.path}: no tensor named ${JSON.stringify(name)}`, { code: 'E_GGUF_TENSOR' });
  const out = new Uint8Array(t.nbytes);
  const fd = openSync(f.path, 'r');
  try {
    let done = 0;
    while (done < t.nbytes) {
      const n = readSync(fd, out, done, Math.min(t.nbytes - done, 1 << 30), t.fileOffset + done);
      if (n === 0) throw new GgufError(`${f.path}: byte ${t.fileOffset + done}: file ends inside tensor ${name} (truncated)`, { code: 'E_GGUF' });
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** A metadata value, checked: a clear error naming the key when missing or of the wrong kind. */
export function ggufGet<V extends GgufValue>(f: Pick<GgufFile, 'kv' | 'path'>, key: string, kind: 'number' | 'string' | 'boolean' | 'array', optional?: false): V;
export function ggufGet<V extends GgufValue>(f: Pick<GgufFile, 'kv' | 'path'>, key: string, kind: 'number' | 'string' | 'boolean' | 'array', optional: true): V | undefined;
export function ggufGet(f: Pick<GgufFile, 'kv' | 'path'>, key: string, kind: 'number' | 'string' | 'boolean' | 'array', optional = false): GgufValue | undefined {
  const v = f.kv.get(key);
  if (v === undefined) {
    if (optional) return undefined;
    throw new GgufError(`${f.path}: metadata ${key} is missing`, { code: 'E_GGUF_KEY' });
  }
  const ok = kind === 'array' ? Array.isArray(v) : typeof v === kind;
  if (!ok) throw new GgufError(`${f.path}: metadata ${key} is ${Array.isArray(v) ? 'an array' : typeof v}, expected ${kind === 'array' ? 'an array' : `a ${kind}`}`, { code: 'E_GGUF_KEY' });
  return v;
}
