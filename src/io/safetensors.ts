// safetensors (https://github.com/huggingface/safetensors format): 8-byte little-endian header
// length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}},
// then the tensor bytes. The reader validates everything a hostile or truncated file could get wrong:
// header size limits, JSON shape, dtype names, offsets out of range, overlapping or unaligned to the
// element size, byte counts that disagree with the shape.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import type { DType } from '../core/dtype.js';

export const ST_DTYPES: Record<string, { dtype: DType | null; bytes: number }> = {
  F32: { dtype: 'f32', bytes: 4 }, BF16: { dtype: 'bf16', bytes: 2 }, F16: { dtype: 'f16', bytes: 2 },
  I32: { dtype: 'i32', bytes: 4 }, I64: { dtype: null, bytes: 8 }, F64: { dtype: null, bytes: 8 },
  I8: { dtype: null, bytes: 1 }, U8: { dtype: null, bytes: 1 }, I16: { dtype: null, bytes: 2 },
  BOOL: { dtype: null, bytes: 1 },
};
const NAME_OF: Record<DType, string> = { f32: 'F32', bf16: 'BF16', f16: 'F16', i32: 'I32' };

export interface TensorEntry { name: string; dtype: string; shape: number[]; begin: number; end: number }

export interface SafetensorsHeader {
  path: string;
  entries: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** file offset of the data section */
  dataStart: number;
  fileSize: number;
}

export class SafetensorsError extends Error {
  constructor(path: string, msg: string) { super(`${path}: ${msg}`); this.name = 'SafetensorsError'; }
}

const MAX_HEADER = 100 << 20; // 100 MB, as the reference implementation

export function readHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new SafetensorsError(path, `file of ${size} bytes is too short for a safetensors header`);
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const n = Number(lenBuf.readBigUInt64LE(0));
    if (n > MAX_HEADER) throw new SafetensorsError(path, `header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
    if (8 + n > size) throw new SafetensorsError(path, `header length ${n} runs past the end of the file (${size} bytes): truncated?`);
    const hb = Buffer.alloc(n);
    readSync(fd, hb, 0, n, 8);
    let json: unknown;
    try { json = JSON.parse(hb.toString('utf8')); } catch (e) {
      throw new SafetensorsError(path, `header is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SafetensorsError(path, 'header must be a JSON object');
    const dataStart = 8 + n, dataLen = size - dataStart;
    const entries = new Map<string, TensorEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') { metadata = v as Record<string, string>; continue; }
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof e !== 'object' || e === null) throw new SafetensorsError(path, `tensor "${name}": entry must be an object`);
      if (typeof e.dtype !== 'string' || !ST_DTYPES[e.dtype]) throw new SafetensorsError(path, `tensor "${name}": unknown dtype ${JSON.stringify(e.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(path, `tensor "${name}": shape must be an array of non-negative integers`);
      const off = e.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
        throw new SafetensorsError(path, `tensor "${name}": data_offsets must be [begin, end] with 0 ≤ begin ≤ end`);
      }
      if (off[1] > dataLen) throw new SafetensorsError(path, `tensor "${name}": data_offsets [${off}] run past the data section (${dataLen} bytes)`);
      const want = (e.shape as number[]).reduce((a, b) => a * b, 1) * ST_DTYPES[e.dtype].bytes;
      if (off[1] - off[0] !== want) throw new SafetensorsError(path, `tensor "${name}": ${off[1] - off[0]} bytes stored, shape ${JSON.stringify(e.shape)} of ${e.dtype} needs ${want}`);
      entries.set(name, { name, dtype: e.dtype, shape: e.shape as number[], begin: off[0], end: off[1] });
    }
    const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].begin < sorted[i - 1].end) throw new SafetensorsError(path, `tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`);
    }
    return { path, entries, metadata, dataStart, fileSize: size };
  } finally {
    closeSync(fd);
  }
}

/** reads one tensor's bytes into `out` (which must hold exactly its byte size) */
export function readTensorBytes(h: SafetensorsHeader, name: string, out: Uint8Array): void {
  const e = h.entries.get(name);
  if (!e) throw new SafetensorsError(h.path, `no tensor named "${name}"`);
  if (out.byteLength !== e.end - e.begin) throw new SafetensorsError(h.path, `tensor "${name}" has ${e.end - e.begin} bytes, buffer holds ${out.byteLength}`);
  const fd = openSync(h.path, 'r');
  try {
    let done = 0;
    while (done < out.byteLength) {
      const r = readSync(fd, out, done, Math.min(out.byteLength - done, 1 << 30), h.dataStart + e.begin + done);
      if (r === 0) throw new SafetensorsError(h.path, `unexpected end of file reading "${name}"`);
      done += r;
    }
  } finally {
    closeSync(fd);
  }
}

export interface TensorToWrite { name: string; dtype: DType; shape: readonly number[]; bytes: Uint8Array }

/** writes tensors (in the given order) atomically; data offsets are 8-byte aligned via header padding */
export function writeSafetensors(path: string, tensors: TensorToWrite[], metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new SafetensorsError(path, `duplicate tensor name "${t.name}"`);
    seen.add(t.name);
    header[t.name] = { dtype: NAME_OF[t.dtype], shape: [...t.shape], data_offsets: [off, off + t.bytes.byteLength] };
    off += t.bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileAtomic(path, [len, json, ...tensors.map((t) => t.bytes)]);
}
