// Token shards: the binary format the training loop reads.
//
// Layout (all integers little-endian):
//
//   offset  size            field
//   0       8               magic "DSLLMTOK"
//   8       4               u32 format version (1)
//   12      4               u32 bytes per token id: 2 (uint16) or 4 (uint32)
//   16      8               u64 numTokens
//   24      8               u64 numDocs
//   32      4               u32 eosId (every document ends with it)
//   36      4               u32 reserved (0)
//   40      64              tokenizer hash, ASCII, zero-padded (the loader refuses a different tokenizer)
//   104     24              reserved (0)
//   128     numTokens·dtype token ids
//   …       0–7             zero padding to a multiple of 8
//   D       (numDocs+1)·8   u64 token offset of each document's first token; the last entry = numTokens
//
// Files are written to a temporary name, fsynced and renamed (a killed writer leaves no shard).
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ShardTokenizer } from './types.js';

export const SHARD_MAGIC = 'DSLLMTOK';
export const SHARD_VERSION = 1;
export const SHARD_HEADER_BYTES = 128;

export interface ShardHeader {
  version: number;
  bytesPerToken: 2 | 4;
  numTokens: number;
  numDocs: number;
  eosId: number;
  tokenizerHash: string;
}

export class ShardFormatError extends Error {
  constructor(path: string, msg: string) { super(`${path}: ${msg}`); this.name = 'ShardFormatError'; }
}

export function docsOffset(h: Pick<ShardHeader, 'numTokens' | 'bytesPerToken'>): number {
  const end = SHARD_HEADER_BYTES + h.numTokens * h.bytesPerToken;
  return end + ((8 - (end % 8)) % 8);
}

export function encodeHeader(h: ShardHeader): Buffer {
  const b = Buffer.alloc(SHARD_HEADER_BYTES);
  b.write(SHARD_MAGIC, 0, 'ascii');
  b.writeUInt32LE(h.version, 8);
  b.writeUInt32LE(h.bytesPerToken, 12);
  b.writeBigUInt64LE(BigInt(h.numTokens), 16);
  b.writeBigUInt64LE(BigInt(h.numDocs), 24);
  b.writeUInt32LE(h.eosId, 32);
  if (Buffer.byteLength(h.tokenizerHash, 'ascii') > 64 || /[^\x20-\x7e]/.test(h.tokenizerHash)) throw new Error(`shard: tokenizer hash must be printable ASCII of at most 64 characters, got '${h.tokenizerHash}'`);
  b.write(h.tokenizerHash, 40, 'ascii');
  return b;
}

/** Reads and checks a shard header against the file size. */
export function readHeader(path: string): ShardHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const b = Buffer.alloc(SHARD_HEADER_BYTES);
    if (size < SHARD_HEADER_BYTES || readSync(fd, b, 0, SHARD_HEADER_BYTES, 0) !== SHARD_HEADER_BYTES) throw new ShardFormatError(path, `file of ${size} bytes is shorter than the ${SHARD_HEADER_BYTES}-byte header`);
    if (b.toString('ascii', 0, 8) !== SHARD_MAGIC) throw new ShardFormatError(path, `bad magic '${b.toString('latin1', 0, 8)}', expected '${SHARD_MAGIC}': not a dsllm token shard`);
    const version = b.readUInt32LE(8);
    if (version !== SHARD_VERSION) throw new ShardFormatError(path, `format version ${version}, this dsllm reads version ${SHARD_VERSION}`);
    const bpt = b.readUInt32LE(12);
    if (bpt !== 2 && bpt !== 4) throw new ShardFormatError(path, `bytes per token ${bpt}, expected 2 or 4`);
    const h: ShardHeader = {
      version, bytesPerToken: bpt, numTokens: Number(b.readBigUInt64LE(16)), numDocs: Number(b.readBigUInt64LE(24)),
      eosId: b.readUInt32LE(32), tokenizerHash: b.toString('ascii', 40, 104).replace(/\0+$/, ''),
    };
    const expect = docsOffset(h) + (h.numDocs + 1) * 8;
    if (size !== expect) throw new ShardFormatError(path, `file is ${size} bytes, header says ${expect} (${h.numTokens} tokens, ${h.numDocs} docs): truncated or corrupt; rebuild it with \`dsllm data tokenize\``);
    return h;
  } finally { closeSync(fd); }
}

/** Whole shard in memory (tools and tests; the loader reads ranges). */
export function readShard(path: string): { header: ShardHeader; tokens: Uint16Array | Uint32Array; docOffsets: BigUint64Array } {
  const header = readHeader(path);
  const fd = openSync(path, 'r');
  try {
    const tb = Buffer.alloc(header.numTokens * header.bytesPerToken);
    readSync(fd, tb, 0, tb.length, SHARD_HEADER_BYTES);
    const ob = Buffer.alloc((header.numDocs + 1) * 8);
    readSync(fd, ob, 0, ob.length, docsOffset(header));
    const tokens = header.bytesPerToken === 2 ? new Uint16Array(tb.buffer, tb.byteOffset, header.numTokens) : new Uint32Array(tb.buffer, tb.byteOffset, header.numTokens);
    return { header, tokens: tokens.slice(), docOffsets: new BigUint64Array(ob.buffer.slice(ob.byteOffset, ob.byteOffset + ob.length)) };
  } finally { closeSync(fd); }
}

/**
 * Writes one shard: `add` appends a document (its tokens + EOS), `commit` publishes the file.
 * @example const w = new ShardWriter('shards/train-00000.bin', byteTokenizer); w.add('hello'); w.commit();
 */
export class ShardWriter {
  private fd: number;
  private readonly tmp: string;
  private readonly bpt: 2 | 4;
  private docStarts: number[] = [0];
  // ids not yet written, at the shard's width (a JS array of numbers cost a boxed push per id)
  private pending: Uint16Array | Uint32Array;
  private nPending = 0;
  numTokens = 0;

  constructor(readonly path: string, private readonly tok: ShardTokenizer & { vocabSize?: number }) {
    mkdirSync(dirname(path), { recursive: true });
    this.bpt = tok.vocabSize !== undefined && tok.vocabSize <= 65536 ? 2 : 4;
    this.pending = this.bpt === 2 ? new Uint16Array(1 << 20) : new Uint32Array(1 << 20);
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
    writeSync(this.fd, Buffer.alloc(SHARD_HEADER_BYTES));
  }

  get numDocs(): number { return this.docStarts.length - 1; }

  add(text: string): void { this.addTokens(this.tok.encode(text)); }

  addTokens(ids: readonly number[] | Uint32Array): void {
    const max = this.bpt === 2 ? 0xffff : 0xffffffff;
    // all ids checked before any is kept: a refused document leaves the shard as it was
    for (let i = 0; i <= ids.length; i++) {
      const id = i < ids.length ? ids[i] : this.tok.eosId;
      if (!Number.isInteger(id) || id < 0 || id > max) throw new Error(`shard ${this.path}: token id ${id} does not fit in ${this.bpt * 8}-bit storage`);
    }
    for (let i = 0; i <= ids.length; i++) {
      if (this.nPending === this.pending.length) this.flush();
      this.pending[this.nPending++] = i < ids.length ? ids[i] : this.tok.eosId;
    }
    this.numTokens += ids.length + 1;
    this.docStarts.push(this.numTokens);
  }

  private flush(): void {
    if (!this.nPending) return;
    writeSync(this.fd, new Uint8Array(this.pending.buffer, 0, this.nPending * this.bpt));
    this.nPending = 0;
  }

  commit(): ShardHeader {
    this.flush();
    const h: ShardHeader = { version: SHARD_VERSION, bytesPerToken: this.bpt, numTokens: this.numTokens, numDocs: this.numDocs, eosId: this.tok.eosId, tokenizerHash: this.tok.hash };
    const pad = docsOffset(h) - (SHARD_HEADER_BYTES + h.numTokens * h.bytesPerToken);
    if (pad) writeSync(this.fd, Buffer.alloc(pad));
    const offs = BigUint64Array.from(this.docStarts, (x) => BigInt(x));
    writeSync(this.fd, new Uint8Array(offs.buffer));
    writeSync(this.fd, encodeHeader(h), 0, SHARD_HEADER_BYTES, 0);
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
    return h;
  }

  abort(): void {
    try { closeSync(this.fd); } catch { /* closed */ }
    rmSync(this.tmp, { force: true });
  }
}
