// The shared memory a TokenizerPool batch travels in, and its layout: what the pool's thread writes
// (the texts, their lengths, the chunks they are cut into) and what the workers write back (each
// text's id count, where each chunk's ids are). Both sides import this file; nothing here posts
// messages. The buffers are reused batch after batch and grown only when a batch needs more: fresh
// pages cost ~20 µs each to fault in on this VM, more than encoding what they hold.
//
// A chunk's texts are joined and stored as UTF-16 code units (lone surrogates kept). A worker reads
// them back with Buffer's UTF-16 decoder, which V8 narrows to a one-byte string when every
// character fits in Latin-1 (0.2-0.25 ns a character): the pre-tokenizer's regex runs ~35% faster
// over one-byte strings. (Deciding Latin-1 or not here, with a regex over each chunk, was 1.4 ms a
// batch of English, a third of this thread's work.)

/** ints per chunk in `chunks`: written by the pool thread ... */
export const TEXT_FROM = 0, TEXT_TO = 1, BYTE_FROM = 2, BYTE_TO = 3;
/** ... and by the worker that encoded it */
export const WORKER = 4, IDS_FROM = 5, IDS_TO = 6;
export const CHUNK_INTS = 7;
/** ints in `ctl`: the next chunk to claim (Atomics.add), how many chunks the pool thread has written
 *  so far (workers wait on it), how many the batch has, how many are done (workers wait for all
 *  before they place their ids in the batch's output), and whether a worker failed */
export const NEXT = 0, READY = 1, COUNT = 2, DONE = 3, FAILED = 4;
/** and how many characters follow each text in `text` before the next (1: the newline of a line) */
export const SEP = 5;

/** the buffers themselves: what is posted to a worker when they change */
export interface BatchBuffers { text: SharedArrayBuffer; lens: SharedArrayBuffer; counts: SharedArrayBuffer; chunks: SharedArrayBuffer; ctl: SharedArrayBuffer }

/** Typed views of a batch's buffers. */
export class BatchViews {
  readonly text: Buffer;
  /** UTF-16 length of each text */
  readonly lens: Uint32Array;
  /** id count of each text, written by the worker that encodes it */
  readonly counts: Uint32Array;
  readonly chunks: Int32Array;
  readonly ctl: Int32Array;
  constructor(readonly buffers: BatchBuffers) {
    this.text = Buffer.from(buffers.text);
    this.lens = new Uint32Array(buffers.lens);
    this.counts = new Uint32Array(buffers.counts);
    this.chunks = new Int32Array(buffers.chunks);
    this.ctl = new Int32Array(buffers.ctl);
  }

  /** the text between two byte offsets (one-byte when it can be) */
  textAt(from: number, to: number): string { return this.text.toString('utf16le', from, to); }
}

/** Waits until chunk k is written; false when the batch has no chunk k. (Worker threads only:
 *  Atomics.wait blocks.) */
export function awaitChunk(ctl: Int32Array, k: number): boolean {
  if (k >= ctl[COUNT]) return false;
  for (let ready = Atomics.load(ctl, READY); k >= ready; ready = Atomics.load(ctl, READY)) Atomics.wait(ctl, READY, ready);
  return true;
}

/** Where the workers write a batch's ids in place: text i's at ids[offsets[i]] onwards. `ids` is a
 *  growable SharedArrayBuffer whose maximum is the most ids the batch can have: the worker that
 *  finds it too small grows it to the batch's size, so only what is used is ever committed. */
export interface BatchOutput { ids: GrowableSharedArrayBuffer; offsets: Uint32Array }

/** ES2024's growable SharedArrayBuffer (Node 20 has it; the ES2022 typings here do not) */
export interface GrowableSharedArrayBuffer extends SharedArrayBuffer { readonly growable: boolean; readonly maxByteLength: number; grow(bytes: number): void }

/** an empty shared buffer that can grow to `max` bytes, only reserving them until it does */
export function growableShared(max: number): GrowableSharedArrayBuffer {
  return new (SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => GrowableSharedArrayBuffer)(0, { maxByteLength: max });
}

/** the batch's ids in the output, grown to hold them; null when they exceed its maximum */
export function outputIds(out: BatchOutput, total: number): Uint32Array | null {
  if (total * 4 > out.ids.maxByteLength) return null;
  if (out.ids.byteLength < total * 4) out.ids.grow(total * 4);  // a no-op when another worker did it
  return new Uint32Array(out.ids, 0, total);
}

/** Marks `n` chunks done and waits until every chunk of the batch is. (Worker threads only.) */
export function finishChunks(ctl: Int32Array, n: number): void {
  const count = ctl[COUNT];
  if (Atomics.add(ctl, DONE, n) + n >= count) { Atomics.notify(ctl, DONE); return; }
  for (let d = Atomics.load(ctl, DONE); d < count; d = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, d);
}

/** Lets workers waiting for chunks or for the batch's end go on: a worker is gone. */
export function abandonBatch(ctl: Int32Array): void {
  Atomics.store(ctl, FAILED, 1);
  Atomics.store(ctl, READY, ctl[COUNT]);
  Atomics.store(ctl, DONE, ctl[COUNT]);
  Atomics.notify(ctl, READY);
  Atomics.notify(ctl, DONE);
}

/** the number of ids of the batch, once every chunk is done */
export function batchTotal(v: BatchViews): number {
  let total = 0;
  for (let k = 0, n = v.ctl[COUNT]; k < n; k++) total += v.chunks[k * CHUNK_INTS + IDS_TO] - v.chunks[k * CHUNK_INTS + IDS_FROM];
  return total;
}

/** Views at least as big as asked for: `old` itself when it is, else new buffers half as big again (in whole 8-byte words). */
export function batchViews(old: BatchViews | null, bytes: number, texts: number, chunks: number): BatchViews {
  const b = old?.buffers;
  const fits = (buf: SharedArrayBuffer | undefined, n: number) => buf !== undefined && buf.byteLength >= n;
  if (b && fits(b.text, bytes) && fits(b.lens, texts * 4) && fits(b.chunks, chunks * CHUNK_INTS * 4)) return old!;
  const size = (buf: SharedArrayBuffer | undefined, n: number) => (fits(buf, n) ? buf! : new SharedArrayBuffer(Math.ceil(n * 0.1875) * 8 + 64));
  const lens = size(b?.lens, texts * 4);
  return new BatchViews({
    text: size(b?.text, bytes), lens, counts: lens === b?.lens ? b.counts : new SharedArrayBuffer(lens.byteLength),
    chunks: size(b?.chunks, chunks * CHUNK_INTS * 4), ctl: b?.ctl ?? new SharedArrayBuffer(64),
  });
}
