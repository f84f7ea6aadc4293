// Batch encoding in worker threads. Each worker loads the tokenizer once (from its file, or from a
// spec sent by structured clone). A batch travels in shared memory (pool-batch.ts): this thread cuts
// it into chunks (shrinking toward the end, so the workers finish together), posts one message per
// worker, then writes each chunk's texts joined into one shared buffer while the workers already
// encode the first ones. The workers claim chunks with an atomic counter, wait for the ones not yet
// written, and write each text's id count; when all chunks are done each worker copies its chunks'
// ids to their places in the output, and replies once. So this thread's work is one copy of the
// texts and one message per worker, whatever the batch's size.
// (Before: one message per chunk each way, 32k characters each, and the ids gathered here. This
// thread spent ~5 ms a batch of ~100 ms on it, taken from a worker's CPU when two ran; each worker
// spent 3-4 ms posting replies, and its fresh reply buffers page-faulted, 2-10 ms a batch. Two
// workers reached 85-92% of what the two CPUs allowed; now 91-96%, and a worker encodes English
// ~35% faster, as its texts come back as one-byte strings when they can.)
// encodeBatchFlat returns all ids in one buffer with offsets, making no object per text;
// encodeBatch cuts that into one view per text; encodeLinesFlat takes lines in big strings, making
// no string per line here.
import { Worker } from 'node:worker_threads';
import type { EncodeOptions, TokenizerSpec } from './tokenizer.js';
import { IdBuffer } from './id-buffer.js';
import { BYTE_FROM, BYTE_TO, CHUNK_INTS, COUNT, DONE, FAILED, IDS_FROM, IDS_TO, NEXT, READY, SEP, TEXT_FROM, TEXT_TO, WORKER,
  abandonBatch, batchTotal, batchViews, growableShared, outputIds, type BatchBuffers, type BatchOutput, type BatchViews, type GrowableSharedArrayBuffer } from './pool-batch.js';

/** Chunk sizes in UTF-16 units: what is left / (workers · TAIL_SHARE), within these bounds. Chunks
 *  shrink toward the end of a batch, so that the workers run out of work at about the same time. */
const MAX_CHUNK_CHARS = 1 << 14;
const MIN_CHUNK_CHARS = 1 << 10;
const TAIL_SHARE = 8;
/** the largest id buffer a batch reserves (V8's limit for one buffer is near 2^32 bytes): a bigger
 *  batch that needs more is gathered on this thread instead */
const MAX_OUTPUT_BYTES = 2 ** 32 - 4096;

export interface PoolSource { path?: string; spec?: TokenizerSpec }
export interface PoolOptions {
  /** pin worker i to CPU cpus[i % cpus.length] (Linux; needs the native addon). Unpinned by default. */
  cpus?: number[];
}
/** what a worker is started with */
export interface PoolWorkerData { source: PoolSource; index: number; cpu?: number }
/** what a worker is sent for each batch: the buffers when they changed since its last batch */
export interface BatchRequest { opts: EncodeOptions; buffers?: BatchBuffers; out: BatchOutput }
/** a worker's one reply to a batch: its id buffer (shared; chunks say which part is whose), or an error */
export interface BatchReply { ids?: Uint32Array; error?: string }

/** The ids of a batch: text i is ids[offsets[i] .. offsets[i + 1]). After `release`, both may be
 *  views of larger buffers that an earlier batch handed back. */
export interface FlatIds { ids: Uint32Array; offsets: Uint32Array }

export class TokenizerPool {
  /** the batch in progress: batches run one after another (they share the batch buffers) */
  private last: Promise<unknown> = Promise.resolve();
  /** buffers of a batch the caller is done with, written over by the next batch */
  private spare: FlatIds | null = null;
  private views: BatchViews | null = null;
  /** the buffers each worker was last sent */
  private sent: (BatchBuffers | null)[];
  /** set when a worker has exited: no batch can complete after that */
  private broken: Error | null = null;
  /** the batch the workers are on, if any */
  private running: BatchViews | null = null;

  private constructor(private workers: Worker[]) {
    this.sent = workers.map(() => null);
    workers.forEach((w, i) => w.once('exit', (code) => {
      this.broken ??= new Error(`tokenizer pool: worker ${i} exited (code ${code})`);
      if (this.running) abandonBatch(this.running.ctl);  // the others would wait for its chunks
    }));
  }

  /** Starts `threads` workers that each load the tokenizer. */
  static async create(source: PoolSource, threads = 2, opts: PoolOptions = {}): Promise<TokenizerPool> {
    const cpus = opts.cpus?.length ? opts.cpus : null;
    const workers = Array.from({ length: Math.max(1, threads) }, (_, index) => {
      const workerData: PoolWorkerData = { source, index, cpu: cpus ? cpus[index % cpus.length] : undefined };
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
    return this.enqueue(() => textsSource(texts), opts);
  }

  /**
   * ids of each line of `text` (or of each string of `text` in turn), as encodeBatchFlat gives them:
   * lines are split at "\n", which no line keeps ("\r" stays); a final line without "\n" counts, and
   * a string that ends in "\n" has no empty line after it. No string is made per line on this thread:
   * for a file read in big pieces, that garbage cost this thread more than the workers' encoding (and
   * a reader should pass its pieces as they are: joining them into one string of megabytes costs
   * page faults, ~40 ms per 8 MB on this VM).
   */
  encodeLinesFlat(text: string | string[], opts: EncodeOptions = {}): Promise<FlatIds> {
    return this.enqueue(() => linesSource(Array.isArray(text) ? text : [text]), opts);
  }

  private enqueue(source: () => BatchSource, opts: EncodeOptions): Promise<FlatIds> {
    const go = () => this.encodeNow(source(), opts);
    const run = this.last.then(go, go);
    this.last = run.catch(() => undefined);
    return run;
  }

  /**
   * Hands a finished batch's buffers back: the next batch writes its ids into them when they are big
   * enough, instead of into fresh memory. A loop that writes each batch out (a shard writer) should
   * call it: fresh pages are dear on a VM (here ~20 µs per 4 KiB page to fault in: 40 ms for the 8 MB
   * of ids of the Chinese corpus, a third of a one-worker batch). `flat` must not be used afterwards.
   */
  release(flat: FlatIds): void { this.spare = flat; }

  private async encodeNow(src: BatchSource, opts: EncodeOptions): Promise<FlatIds> {
    if (this.broken) throw this.broken;
    const nTexts = src.count;
    if (nTexts === 0) return { ids: new Uint32Array(0), offsets: new Uint32Array(1) };
    const v = this.planBatch(src), nChunks = v.ctl[COUNT];
    const out = this.output(src.chars, nTexts);
    // the workers start on the first chunks while this thread writes the rest
    this.running = v;
    const replies = this.workers.map((w, i) => {
      const buffers = this.sent[i] === v.buffers ? undefined : v.buffers;
      this.sent[i] = v.buffers;
      const reply = nextReply(w, i);
      w.postMessage({ opts, buffers, out } satisfies BatchRequest);
      return reply;
    });
    let writeError: unknown = null;
    try {
      for (let k = 0; k < nChunks; k++) {
        writeChunk(v, src, k);
        Atomics.store(v.ctl, READY, k + 1);
        Atomics.notify(v.ctl, READY);
      }
    } catch (e) {
      writeError = e;
      abandonBatch(v.ctl);  // the workers finish without the rest
    }
    // the next batch reuses the buffers: it must not start before every worker is done with this one
    const settled = await Promise.allSettled(replies);
    this.running = null;
    if (writeError) throw writeError;
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const total = batchTotal(v), ids = outputIds(out, total);
    if (!ids) {  // the workers left their ids where they were (a normalizer that grows text)
      return gatherIds(v, nTexts, nChunks, settled.map((r) => (r as PromiseFulfilledResult<Uint32Array>).value));
    }
    out.offsets[nTexts] = total;
    return { ids, offsets: out.offsets.subarray(0, nTexts + 1) };
  }

  /** Where the workers write the batch's ids: the released batch's buffers when they can hold the
   *  most this batch can have, else new ones. That most is byte-level BPE's: an id per UTF-8 byte,
   *  three bytes per UTF-16 unit, and BOS/EOS; the ids buffer only reserves it (growable), so a batch
   *  kept without release() holds what it uses, not twelve times that (English: ~0.25 ids a character). */
  private output(chars: number, nTexts: number): BatchOutput {
    const most = Math.min(MAX_OUTPUT_BYTES, 4 * (3 * chars + 2 * nTexts)), spare = this.spare;
    this.spare = null;
    const old = spare?.ids.buffer, oldOffsets = spare?.offsets.buffer;
    const reuse = old instanceof SharedArrayBuffer && (old as GrowableSharedArrayBuffer).growable && (old as GrowableSharedArrayBuffer).maxByteLength >= most;
    const ids = reuse ? old as GrowableSharedArrayBuffer : growableShared(most);
    const offsets = oldOffsets instanceof SharedArrayBuffer && oldOffsets.byteLength >= (nTexts + 1) * 4
      ? new Uint32Array(oldOffsets, 0, nTexts + 1) : new Uint32Array(new SharedArrayBuffer((nTexts + 1) * 4));
    return { ids, offsets };
  }

  /** Sizes the batch buffers and cuts the texts into chunks: their text ranges and each text's
   *  length go in; ctl says none is written yet. */
  private planBatch(src: BatchSource): BatchViews {
    const share = this.workers.length * TAIL_SHARE, n = src.count, total = src.chars;
    const target = (left: number) => Math.min(MAX_CHUNK_CHARS, Math.max(MIN_CHUNK_CHARS, Math.ceil(left / share)));
    const maxChunks = Math.min(n, Math.floor(total / MIN_CHUNK_CHARS) + 1);
    // the texts and the separators between them, as UTF-16
    const v = this.views = batchViews(this.views, 2 * (total + n * src.sep), n, maxChunks);
    let k = 0;
    for (let a = 0, chars = 0, left = total, want = target(left), i = 0; i < n; i++) {
      const len = src.length(i);
      v.lens[i] = len;
      chars += len;
      if (chars < want && i < n - 1) continue;
      v.chunks[k * CHUNK_INTS + TEXT_FROM] = a;
      v.chunks[k++ * CHUNK_INTS + TEXT_TO] = i + 1;
      a = i + 1;
      left -= chars;
      chars = 0;
      want = target(left);
    }
    v.ctl[NEXT] = 0;
    v.ctl[READY] = 0;
    v.ctl[COUNT] = k;
    v.ctl[DONE] = 0;
    v.ctl[FAILED] = 0;
    v.ctl[SEP] = src.sep;
    return v;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** A batch's texts as the pool writes them: how many, their lengths, and their text chunk by chunk. */
interface BatchSource {
  count: number;
  /** UTF-16 units of all texts */
  chars: number;
  length(i: number): number;
  /** characters between one text and the next in what `text` returns (the workers skip them) */
  sep: 0 | 1;
  /** texts [a, b) as one string, each followed by `sep` characters (the last may not be) */
  text(a: number, b: number): string;
}

/** texts given one by one; a clear error for one that is not a string */
function textsSource(texts: string[]): BatchSource {
  let chars = 0;
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i];
    if (typeof t !== 'string') throw new TypeError(`tokenizer pool: text ${i} is ${typeof t}, expected a string`);
    chars += t.length;
  }
  return { count: texts.length, chars, sep: 0, length: (i) => texts[i].length, text: (a, b) => (b - a === 1 ? texts[a] : texts.slice(a, b).join('')) };
}

/** the lines of some strings (see encodeLinesFlat), found without making a string per line */
function linesSource(texts: string[]): BatchSource {
  // each line: the string it is in, where it begins, where it ends (typed: no boxed number per line)
  const where = new IdBuffer(1024), begins = new IdBuffer(1024), ends = new IdBuffer(1024);
  let chars = 0;
  for (let j = 0; j < texts.length; j++) {
    const t = texts[j];
    if (typeof t !== 'string') throw new TypeError(`tokenizer pool: text ${j} of lines is ${typeof t}, expected a string`);
    for (let at = 0; at < t.length;) {
      const nl = t.indexOf('\n', at), end = nl < 0 ? t.length : nl;
      where.push(j); begins.push(at); ends.push(end);
      chars += end - at;
      at = end + 1;
    }
  }
  const w = where.a, b0 = begins.a, b1 = ends.a;
  /** lines [a, b) of one string, each followed by its newline (added where the string has none) */
  const piece = (a: number, b: number, last: boolean) => {
    const t = texts[w[a]], to = Math.min(t.length, b1[b - 1] + 1);
    return !last && to === b1[b - 1] ? t.substring(b0[a], to) + '\n' : t.substring(b0[a], to);
  };
  return {
    count: where.n, chars, sep: 1, length: (i) => b1[i] - b0[i],
    text: (a, b) => {
      if (w[a] === w[b - 1]) return piece(a, b, true);
      const out: string[] = [];
      for (let i = a; i < b;) { let j = i + 1; while (j < b && w[j] === w[i]) j++; out.push(piece(i, j, j === b)); i = j; }
      return out.join('');
    },
  };
}

/** Writes chunk k's texts after chunk k - 1's. */
function writeChunk(v: BatchViews, src: BatchSource, k: number): void {
  const c = k * CHUNK_INTS, at = k === 0 ? 0 : v.chunks[c - CHUNK_INTS + BYTE_TO];
  v.chunks[c + BYTE_FROM] = at;
  v.chunks[c + BYTE_TO] = at + v.text.write(src.text(v.chunks[c + TEXT_FROM], v.chunks[c + TEXT_TO]), at, 'utf16le');
}

/** the worker's reply to the batch just posted: its id buffer, or a rejection */
function nextReply(w: Worker, i: number): Promise<Uint32Array> {
  return new Promise((resolve, reject) => {
    const done = () => { w.off('message', onMsg); w.off('error', onErr); w.off('exit', onExit); };
    const onMsg = (m: BatchReply) => { done(); if (m.error !== undefined) reject(new Error(m.error)); else resolve(m.ids!); };
    const onErr = (e: Error) => { done(); reject(e); };
    const onExit = (code: number) => { done(); reject(new Error(`tokenizer pool: worker ${i} exited (code ${code})`)); };
    w.on('message', onMsg);
    w.on('error', onErr);
    w.on('exit', onExit);
  });
}

/** the batch's ids in text order, from the chunks' places in the workers' buffers */
function gatherIds(v: BatchViews, nTexts: number, nChunks: number, workerIds: Uint32Array[]): FlatIds {
  const offsets = new Uint32Array(nTexts + 1);
  let o = 0;
  for (let t = 0; t < nTexts; t++) { offsets[t] = o; o += v.counts[t]; }
  offsets[nTexts] = o;
  const ids = new Uint32Array(o);
  for (let k = 0, at = 0; k < nChunks; k++) {
    const c = k * CHUNK_INTS, from = v.chunks[c + IDS_FROM], to = v.chunks[c + IDS_TO];
    ids.set(workerIds[v.chunks[c + WORKER]].subarray(from, to), at);
    at += to - from;
  }
  return { ids, offsets };
}
