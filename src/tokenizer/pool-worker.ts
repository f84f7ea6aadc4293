// A TokenizerPool thread: loads the tokenizer, then for each batch claims chunks (an atomic counter
// in shared memory) until none is left, waiting for the pool thread to have written the one it got;
// encodes each chunk's texts into this worker's id buffer and writes each text's id count and where
// the chunk's ids are. When every chunk is done (the workers wait for each other), each worker copies
// its chunks' ids to their places in the batch's output, and replies once. The id buffer is shared
// memory reused batch after batch; the reply is a view of it, for the pool to gather from when the
// output was too small.
import { parentPort, workerData } from 'node:worker_threads';
import { Tokenizer, type EncodeOptions } from './tokenizer.js';
import { loadTokenizer } from './formats/load.js';
import { IdBuffer } from './id-buffer.js';
import { BYTE_FROM, BYTE_TO, BatchViews, CHUNK_INTS, COUNT, FAILED, IDS_FROM, IDS_TO, NEXT, SEP, TEXT_FROM, TEXT_TO, WORKER, awaitChunk, batchTotal, finishChunks, outputIds, type BatchOutput } from './pool-batch.js';
import type { BatchReply, BatchRequest, PoolWorkerData } from './pool.js';

const { source: src, index, cpu } = workerData as PoolWorkerData;
let tok: Tokenizer;
try {
  if (cpu !== undefined) {
    // the addon only when asked: the tokenizer itself is plain TypeScript
    const { addon } = await import('../backends/native/addon.js');
    if (!addon.pinThread(cpu)) throw new Error(`cannot pin a tokenizer worker to CPU ${cpu}`);
  }
  tok = src.spec ? new Tokenizer(src.spec) : loadTokenizer(src.path!);
  parentPort!.postMessage({ ready: true });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}

const ids = new IdBuffer(1 << 16, true);
let views: BatchViews | null = null;

/** a character a one-byte string cannot hold */
const WIDE_CHAR = /[^\0-\xff]/g;

/**
 * Encodes chunk k's texts. The chunk comes back as a one-byte string when all of it fits; when not,
 * its texts that do fit are read back one by one, each as a one-byte string, rather than cut from
 * the two-byte whole (English: a third of the corpus's chunks hold some character past U+00FF).
 */
function encodeChunk(v: BatchViews, k: number, opts: EncodeOptions): void {
  const c = k * CHUNK_INTS, bytes = v.chunks[c + BYTE_FROM], text = v.textAt(bytes, v.chunks[c + BYTE_TO]);
  WIDE_CHAR.lastIndex = 0;
  let wide = WIDE_CHAR.test(text) ? WIDE_CHAR.lastIndex - 1 : text.length;  // the next character past U+00FF
  const oneByte = wide === text.length;
  v.chunks[c + IDS_FROM] = ids.n;
  const sep = v.ctl[SEP];
  for (let t = v.chunks[c + TEXT_FROM], end = v.chunks[c + TEXT_TO], at = 0; t < end; t++) {
    const before = ids.n, len = v.lens[t];
    let s: string;
    if (wide >= at + len) s = oneByte ? text.substring(at, at + len) : v.textAt(bytes + 2 * at, bytes + 2 * (at + len));
    else {
      s = text.substring(at, at + len);
      WIDE_CHAR.lastIndex = at + len;
      wide = WIDE_CHAR.test(text) ? WIDE_CHAR.lastIndex - 1 : text.length;
    }
    tok.appendEncoded(s, ids, opts);
    v.counts[t] = ids.n - before;
    at += len + sep;
  }
  v.chunks[c + IDS_TO] = ids.n;
  v.chunks[c + WORKER] = index;
}

/** Copies this worker's chunks to their places in the batch's output, with their texts' offsets:
 *  every worker places its own, so the copy runs on all of them at once. */
function placeChunks(v: BatchViews, out: BatchOutput): void {
  const all = outputIds(out, batchTotal(v));
  if (!all) return;  // more ids than the pool's bound: it gathers them itself
  for (let k = 0, at = 0, n = v.ctl[COUNT]; k < n; k++) {
    const c = k * CHUNK_INTS, from = v.chunks[c + IDS_FROM], to = v.chunks[c + IDS_TO];
    if (v.chunks[c + WORKER] === index) {
      all.set(ids.a.subarray(from, to), at);
      for (let t = v.chunks[c + TEXT_FROM], end = v.chunks[c + TEXT_TO], o = at; t < end; t++) { out.offsets[t] = o; o += v.counts[t]; }
    }
    at += to - from;
  }
}

parentPort!.on('message', (m: BatchRequest) => {
  if (m.buffers) views = new BatchViews(m.buffers);
  const v = views!, ctl = v.ctl;
  let error: string | undefined, claimed = 0;
  ids.n = 0;
  for (let k = Atomics.add(ctl, NEXT, 1); awaitChunk(ctl, k); k = Atomics.add(ctl, NEXT, 1)) {
    claimed++;
    if (ctl[FAILED]) continue;  // the batch has failed: the rest are only counted done
    try {
      encodeChunk(v, k, m.opts);
    } catch (e) {
      error = (e as Error).message;
      Atomics.store(ctl, FAILED, 1);
    }
  }
  finishChunks(ctl, claimed);
  try {
    if (!ctl[FAILED]) placeChunks(v, m.out);
  } catch (e) {
    error ??= (e as Error).message;
  }
  parentPort!.postMessage((error === undefined ? { ids: ids.a } : { error }) satisfies BatchReply);
});
