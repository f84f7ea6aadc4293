// Streaming loader over token shards with a resumable cursor.
//
// The shards of an epoch are read in a seeded order (a new permutation each epoch); inside a shard
// tokens are read in order, and batches run on across shard and epoch boundaries. A batch is B rows
// of T + 1 consecutive tokens (inputs are the first T, targets the last T); row r+1 starts where row
// r's inputs end, as nanoGPT-style loaders do. With worldSize W, each step consumes W·B·T tokens and
// rank r reads the r-th B·T of them. The cursor is a plain JSON object: save it in a checkpoint,
// pass it back, and the loader continues with exactly the batch that would have come next.
import { closeSync, openSync, readSync } from 'node:fs';
import { Rng } from '../util/rng.js';
import { readHeader, SHARD_HEADER_BYTES, type ShardHeader } from './shards.js';

export interface LoaderCursor {
  epoch: number;
  /** index into this epoch's shard order */
  shard: number;
  /** token offset inside that shard */
  offset: number;
}

export interface LoaderOptions {
  batchSize: number;
  seqLen: number;
  seed: number;
  /** refuse shards written with another tokenizer */
  tokenizerHash?: string;
  /** shuffle shard order per epoch (default true) */
  shuffle?: boolean;
  rank?: number;
  worldSize?: number;
  cursor?: LoaderCursor;
  /** read at most this many tokens of each shard (the rest is held out, e.g. for validation) */
  tokenLimits?: readonly number[];
}

export class ShardLoader {
  private readonly headers: ShardHeader[];
  private readonly fds: number[];
  private pos: LoaderCursor;
  private orderCache: { epoch: number; order: number[] } | null = null;

  constructor(readonly paths: readonly string[], private readonly o: LoaderOptions) {
    if (!paths.length) throw new Error('loader: no shard files given');
    if (!(o.batchSize >= 1 && o.seqLen >= 1)) throw new Error(`loader: batchSize and seqLen must be >= 1 (got ${o.batchSize}, ${o.seqLen})`);
    const W = o.worldSize ?? 1, r = o.rank ?? 0;
    if (!(W >= 1 && r >= 0 && r < W)) throw new Error(`loader: rank ${r} is not in [0, worldSize ${W})`);
    this.headers = paths.map((p, i) => {
      const h = readHeader(p), lim = o.tokenLimits?.[i];
      return lim === undefined ? h : { ...h, numTokens: Math.min(h.numTokens, lim) };
    });
    this.headers.forEach((h, i) => {
      if (o.tokenizerHash !== undefined && h.tokenizerHash !== o.tokenizerHash) {
        throw new Error(`loader: ${paths[i]} was written with tokenizer '${h.tokenizerHash}', expected '${o.tokenizerHash}'; re-tokenize or pass the matching tokenizer`);
      }
    });
    if (this.headers.every((h) => h.numTokens === 0)) throw new Error('loader: all shards are empty');
    this.fds = paths.map((p) => openSync(p, 'r'));
    this.pos = o.cursor ? { ...o.cursor } : { epoch: 0, shard: 0, offset: 0 };
  }

  /** Where the next batch starts (a copy: safe to store). */
  get cursor(): LoaderCursor { return { ...this.pos }; }

  get totalTokens(): number { return this.headers.reduce((a, h) => a + h.numTokens, 0); }

  private order(epoch: number): number[] {
    if (this.orderCache?.epoch === epoch) return this.orderCache.order;
    const order = this.paths.map((_, i) => i);
    if (this.o.shuffle ?? true) {
      const rng = new Rng(BigInt(this.o.seed) * 1000003n + BigInt(epoch));
      for (let i = order.length - 1; i > 0; i--) { const j = rng.int(i + 1); [order[i], order[j]] = [order[j], order[i]]; }
    }
    this.orderCache = { epoch, order };
    return order;
  }

  /** Copies n tokens from position c into out[at…] and returns the position after them. */
  private read(c: LoaderCursor, n: number, out: Int32Array | null, at: number): LoaderCursor {
    let { epoch, shard, offset } = c;
    while (n > 0) {
      const order = this.order(epoch);
      if (shard >= order.length) { epoch++; shard = 0; offset = 0; continue; }
      const idx = order[shard], h = this.headers[idx];
      const take = Math.min(n, h.numTokens - offset);
      if (take <= 0) { shard++; offset = 0; continue; }
      if (out) {
        const buf = Buffer.alloc(take * h.bytesPerToken);
        readSync(this.fds[idx], buf, 0, buf.length, SHARD_HEADER_BYTES + offset * h.bytesPerToken);
        for (let i = 0; i < take; i++) out[at + i] = h.bytesPerToken === 2 ? buf.readUInt16LE(i * 2) : buf.readUInt32LE(i * 4);
      }
      at += take; n -= take; offset += take;
    }
    return { epoch, shard, offset };
  }

  /** The next batch: B·(T+1) token ids, row-major (row b = tokens[b·(T+1) … (b+1)·(T+1))). */
  next(): { tokens: Int32Array; cursor: LoaderCursor } {
    const B = this.o.batchSize, T = this.o.seqLen, W = this.o.worldSize ?? 1, r = this.o.rank ?? 0;
    const tokens = new Int32Array(B * (T + 1));
    let start = this.read(this.pos, r * B * T, null, 0);
    for (let b = 0; b < B; b++) {
      this.read(start, T + 1, tokens, b * (T + 1));
      start = this.read(start, T, null, 0);
    }
    this.pos = this.read(this.pos, W * B * T, null, 0);
    return { tokens, cursor: this.cursor };
  }

  close(): void { for (const fd of this.fds) closeSync(fd); }
}
