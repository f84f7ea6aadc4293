// The GGUF container, write side (version 3). Tensors are produced one at a time by a callback and
// streamed to a temporary file that replaces the target only once complete and fsynced, so a 7B
// export never holds more than one tensor in memory and a killed export leaves no partial file.
import { writeStreamAtomic } from './atomic.js';
import { GGML_TYPES, GgufError, GgufType, ggmlBytes } from './gguf.js';

export interface KvEntry {
  key: string;
  type: GgufType;
  value: number | bigint | boolean | string | readonly (number | string | boolean)[];
  /** item type of an ARRAY */
  itemType?: GgufType;
}

/** typed metadata entries */
export const kv = {
  u32: (key: string, value: number): KvEntry => ({ key, type: GgufType.U32, value }),
  i32: (key: string, value: number): KvEntry => ({ key, type: GgufType.I32, value }),
  u64: (key: string, value: number): KvEntry => ({ key, type: GgufType.U64, value }),
  f32: (key: string, value: number): KvEntry => ({ key, type: GgufType.F32, value }),
  bool: (key: string, value: boolean): KvEntry => ({ key, type: GgufType.BOOL, value }),
  str: (key: string, value: string): KvEntry => ({ key, type: GgufType.STRING, value }),
  strs: (key: string, value: readonly string[]): KvEntry => ({ key, type: GgufType.ARRAY, itemType: GgufType.STRING, value }),
  i32s: (key: string, value: readonly number[]): KvEntry => ({ key, type: GgufType.ARRAY, itemType: GgufType.I32, value }),
  f32s: (key: string, value: readonly number[]): KvEntry => ({ key, type: GgufType.ARRAY, itemType: GgufType.F32, value }),
  /** any scalar type */
  of: (key: string, type: GgufType, value: number | bigint | boolean | string): KvEntry => ({ key, type, value }),
  /** an array of any scalar item type */
  arr: (key: string, itemType: GgufType, value: readonly (number | string | boolean)[]): KvEntry => ({ key, type: GgufType.ARRAY, itemType, value }),
};

export interface TensorToWrite {
  name: string;
  /** ggml order: ne[0] is the row length */
  ne: readonly number[];
  type: number;
  /** the tensor's bytes in its ggml type; called once, while writing */
  data: () => Uint8Array;
}

/** Growable little-endian byte builder for the header. */
class Bytes {
  private buf = Buffer.alloc(1 << 16);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }
  u8(v: number): void { this.room(1); this.buf.writeUInt8(v, this.len); this.len += 1; }
  u32(v: number): void { this.room(4); this.buf.writeUInt32LE(v, this.len); this.len += 4; }
  i32(v: number): void { this.room(4); this.buf.writeInt32LE(v, this.len); this.len += 4; }
  u64(v: number | bigint): void { this.room(8); this.buf.writeBigUInt64LE(BigInt(v), this.len); this.len += 8; }
  f32(v: number): void { this.room(4); this.buf.writeFloatLE(v, this.len); this.len += 4; }
  raw(n: number, put: (buf: Buffer, at: number) => void): void { this.room(n); put(this.buf, this.len); this.len += n; }
  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.u64(n);
    this.room(n);
    this.buf.write(s, this.len, 'utf8');
    this.len += n;
  }
  bytes(): Buffer { return this.buf.subarray(0, this.len); }
}

function writeValue(b: Bytes, type: GgufType, v: unknown, where: string): void {
  switch (type) {
    case GgufType.U8: case GgufType.BOOL: b.u8(Number(v)); return;
    case GgufType.I8: b.raw(1, (buf, o) => buf.writeInt8(v as number, o)); return;
    case GgufType.U16: b.raw(2, (buf, o) => buf.writeUInt16LE(v as number, o)); return;
    case GgufType.I16: b.raw(2, (buf, o) => buf.writeInt16LE(v as number, o)); return;
    case GgufType.U32: b.u32(v as number); return;
    case GgufType.I32: b.i32(v as number); return;
    case GgufType.F32: b.f32(v as number); return;
    case GgufType.U64: b.u64(v as number); return;
    case GgufType.I64: b.raw(8, (buf, o) => buf.writeBigInt64LE(BigInt(v as number), o)); return;
    case GgufType.F64: b.raw(8, (buf, o) => buf.writeDoubleLE(v as number, o)); return;
    case GgufType.STRING: b.str(v as string); return;
  }
  throw new GgufError(`${where}: writing value type ${type} is not supported`, { code: 'E_GGUF_WRITE' });
}

/** the header bytes up to (not including) the data section's alignment padding */
export function ggufHeader(kvs: readonly KvEntry[], tensors: readonly TensorToWrite[], alignment: number): { header: Buffer; offsets: number[]; sizes: number[] } {
  const b = new Bytes();
  b.u8(0x47); b.u8(0x47); b.u8(0x55); b.u8(0x46); // "GGUF"
  b.u32(3);
  b.u64(tensors.length);
  b.u64(kvs.length);
  const keys = new Set<string>();
  for (const e of kvs) {
    if (keys.has(e.key)) throw new GgufError(`GGUF writer: metadata key ${e.key} given twice`, { code: 'E_GGUF_WRITE' });
    keys.add(e.key);
    b.str(e.key);
    b.u32(e.type);
    if (e.type === GgufType.ARRAY) {
      const items = e.value as readonly unknown[];
      b.u32(e.itemType!);
      b.u64(items.length);
      for (const it of items) writeValue(b, e.itemType!, it, e.key);
    } else writeValue(b, e.type, e.value, e.key);
  }
  const offsets: number[] = [], sizes: number[] = [];
  let off = 0;
  const names = new Set<string>();
  for (const t of tensors) {
    const tt = GGML_TYPES[t.type];
    if (!tt) throw new GgufError(`GGUF writer: tensor ${t.name}: unknown ggml type ${t.type}`, { code: 'E_GGUF_WRITE' });
    if (t.ne[0] % tt.block) throw new GgufError(`GGUF writer: tensor ${t.name}: row of ${t.ne[0]} is not a multiple of ${tt.name}'s block ${tt.block}`, { code: 'E_GGUF_WRITE' });
    if (names.has(t.name)) throw new GgufError(`GGUF writer: tensor ${t.name} given twice`, { code: 'E_GGUF_WRITE' });
    names.add(t.name);
    b.str(t.name);
    b.u32(t.ne.length);
    for (const d of t.ne) b.u64(d);
    b.u32(t.type);
    b.u64(off);
    const n = ggmlBytes(t.type, t.ne);
    offsets.push(off); sizes.push(n);
    off += Math.ceil(n / alignment) * alignment;
  }
  return { header: b.bytes(), offsets, sizes };
}

/** Writes a GGUF v3 file atomically. */
export function writeGguf(path: string, kvs: readonly KvEntry[], tensors: readonly TensorToWrite[], alignment = 32): void {
  const all = kvs.some((e) => e.key === 'general.alignment') || alignment === 32 ? kvs : [...kvs, kv.u32('general.alignment', alignment)];
  const { header, sizes } = ggufHeader(all, tensors, alignment);
  const zeros = Buffer.alloc(alignment);
  writeStreamAtomic(path, (write) => {
    let pos = 0;
    const put = (buf: Uint8Array): void => { write(buf); pos += buf.byteLength; };
    const pad = (): void => { const r = pos % alignment; if (r) put(zeros.subarray(0, alignment - r)); };
    put(header);
    pad();
    tensors.forEach((t, i) => {
      const data = t.data();
      if (data.byteLength !== sizes[i]) {
        throw new GgufError(`GGUF writer: tensor ${t.name} [${t.ne}] of ${GGML_TYPES[t.type].name} needs ${sizes[i]} bytes, got ${data.byteLength}`, { code: 'E_GGUF_WRITE' });
      }
      put(data);
      pad();
    });
  });
}
