// Batch encoding in worker threads. Each worker loads the tokenizer once (from its file, or from a
// spec sent by structured clone). A batch is cut into chunks that the workers take as they finish,
// two in flight per worker, so the serial work on this thread hides behind the workers' encoding.
// The serial work is kept to a few copies per chunk: a chunk travels as one joined string and its
// texts' lengths (cloning one long string is a copy; cloning tens of thousands of short ones is
// not), and its ids come back as one transferred buffer with one count per text. (Handing reply
// buffers back to the workers for reuse was tried: no gain, as 64 KB buffers come from malloc's
// reused heap, not fresh pages.)
// Chunks stay under 32k characters (64 KB as UTF-16): V8 puts larger strings in its large-object
// space, a fresh mapping per string on both sides whose first touch page-faults; with 128k-character
// chunks that cost this thread ~40 ms per 3 MB batch (5× the rest of its work) and capped two
// workers at ~1.5× one.
// encodeBatchFlat returns all ids in one buffer with offsets, making no object per text;
// encodeBatch cuts that into one view per text.
import { Worker } from 'node:worker_threads';
import type { EncodeOptions, TokenizerSpec } from './tokenizer.js';

const CHUNK_CHARS = 1 << 15;
const MIN_CHUNK_CHARS = 1 << 12;
const CHUNKS_PER_WORKER = 8;

export interface PoolSource { path?: string; spec?: TokenizerSpec }
export interface PoolOptions {
  /** pin worker i to CPU cpus[i % cpus.length] (Linux; needs the native addon). Unpinned by default. */
  cpus?: number[];
}
/** what a worker is started with */
export interface PoolWorkerData { source: PoolSource; cpu?: number }

/** A chunk as sent to a worker: its texts joined, and each text's length in UTF-16 units. */
export interface ChunkRequest { text: string; lens: Uint32Array; opts: EncodeOptions }
export interface ChunkReply { ids?: Uint32Array; counts?: Uint32Array; error?: string }

/** The ids of a batch: text i is ids[offsets[i] .. offsets[i + 1]). After `release`, both may be
 *  views of larger buffers that an earlier batch handed back. */
export interface FlatIds { ids: Uint32Array; offsets: Uint32Array }

export class TokenizerPool {
  /** the batch in progress: batches run one after another (replies carry no batch id) */
  private last: Promise<unknown> = Promise.resolve();
  /** buffers of a batch the caller is done with, written over by the next batch */
  private spare: FlatIds | null = null;

  private constructor(private workers: Worker[]) {}

  /** Starts `threads` workers that each load the tokenizer. */
  static async create(source: PoolSource, threads = 2, opts: PoolOptions = {}): Promise<TokenizerPool> {
    const cpus = opts.cpus?.length ? opts.cpus : null;
    const workers = Array.from({ length: Math.max(1, threads) }, (_, i) => {
      const workerData: PoolWorkerData = { source, cpu: cpus ? cpus[i % cpus.length] : undefined };
      return new Worker(new URL('./pool-worker.js', import.meta.url), { workerData });
    });
    try {
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        w.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
        w.once('error', reject);
      })));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));  // none is left running when one fails
      throw e;
    }
    return new TokenizerPool(workers);
  }

  get threads(): number { return this.workers.length; }

  /** ids of each text, in order (views into one buffer). */
  async encodeBatch(texts: string[], opts: EncodeOptions = {}): Promise<Uint32Array[]> {
    const { ids, offsets } = await this.encodeBatchFlat(texts, opts);
    return texts.map((_, i) => ids.subarray(offsets[i], offsets[i + 1]));
  }

  /** ids of all texts in one buffer, text i at offsets[i] .. offsets[i + 1]: no object per text. */
  encodeBatchFlat(texts: string[], opts: EncodeOptions = {}): Promise<FlatIds> {
    const run = this.last.then(() => this.encodeNow(texts, opts), () => this.encodeNow(texts, opts));
    this.last = run.catch(() => undefined);
    return run;
  }

  /**
   * Hands a finished batch's buffers back: the next batch writes its ids into them when they are big
   * enough, instead of into fresh memory. A loop that writes each batch out (a shard writer) should
   * call it: fresh pages are dear on a VM (here ~20 µs per 4 KiB page to fault in, 40 ms for the 8 MB
   * of ids of the Chinese corpus, 15% of a one-worker batch, all of it on this thread after the
   * workers finish). `flat` must not be used afterwards.
   */
  release(flat: FlatIds): void { this.spare = flat; }

  private async encodeNow(texts: string[], opts: EncodeOptions): Promise<FlatIds> {
    const chunks = cutChunks(texts, this.workers.length);
    const replies: Required<Omit<ChunkReply, 'error'>>[] = new Array(chunks.length);
    let next = 0;
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve, reject) => {
      const sent: number[] = [];  // chunk indices in flight on this worker, oldest first
      const send = () => {
        if (next >= chunks.length) return;
        const k = next++;
        sent.push(k);
        const [a, b] = chunks[k];
        const lens = new Uint32Array(b - a);
        for (let i = a; i < b; i++) lens[i - a] = texts[i].length;
        const req: ChunkRequest = { text: texts.slice(a, b).join(''), lens, opts };
        w.postMessage(req, [lens.buffer]);
      };
      const done = (err?: Error) => { w.off('message', onMsg); w.off('error', onErr); if (err) reject(err); else resolve(); };
      const onMsg = (m: ChunkReply) => {
        if (m.error) { done(new Error(m.error)); return; }
        send();  // keep two chunks in flight
        replies[sent.shift()!] = { ids: m.ids!, counts: m.counts! };
        if (sent.length === 0) done();
      };
      const onErr = (e: Error) => done(e);
      w.on('message', onMsg);
      w.once('error', onErr);
      send(); send();
      if (sent.length === 0) done();
    })));
    const spare = this.spare;
    this.spare = null;
    return joinReplies(texts.length, replies, spare);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** [first, end) text ranges of about total/(workers·CHUNKS_PER_WORKER) characters each */
function cutChunks(texts: string[], workers: number): [number, number][] {
  let total = 0;
  for (const t of texts) total += t.length;
  const target = Math.min(CHUNK_CHARS, Math.max(MIN_CHUNK_CHARS, Math.ceil(total / (workers * CHUNKS_PER_WORKER))));
  const chunks: [number, number][] = [];
  for (let a = 0, acc = 0, i = 0; i < texts.length; i++) {
    acc += texts[i].length;
    if (acc >= target || i === texts.length - 1) { chunks.push([a, i + 1]); a = i + 1; acc = 0; }
  }
  return chunks;
}

/** a Uint32Array of n elements over `reuse`'s buffer when it is big enough, else a new one */
function u32(n: number, reuse: Uint32Array | undefined): Uint32Array {
  return reuse && reuse.buffer.byteLength >= n * 4 ? new Uint32Array(reuse.buffer, 0, n) : new Uint32Array(n);
}

function joinReplies(nTexts: number, replies: { ids: Uint32Array; counts: Uint32Array }[], spare: FlatIds | null): FlatIds {
  let total = 0;
  for (const r of replies) total += r.ids.length;
  const ids = u32(total, spare?.ids), offsets = u32(nTexts + 1, spare?.offsets);
  let o = 0, t = 0;
  for (const r of replies) {
    ids.set(r.ids, o);
    for (const n of r.counts) { offsets[t++] = o; o += n; }
  }
  offsets[t] = o;
  return { ids, offsets };
}
