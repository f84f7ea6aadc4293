// Batch encoding in worker threads. Each worker loads the tokenizer once (from its file, or from a
// spec sent by structured clone). A batch is cut into chunks of about CHUNK_CHARS characters that the
// workers take as they finish, two in flight per worker: cloning texts to a worker and slicing the
// returned ids are serial work on this thread, and pipelining hides it behind the workers' encoding.
// Ids come back as transferred buffers.
import { Worker } from 'node:worker_threads';
import type { EncodeOptions, TokenizerSpec } from './tokenizer.js';

const CHUNK_CHARS = 1 << 17;

export interface PoolSource { path?: string; spec?: TokenizerSpec }

interface Reply { ids?: Uint32Array; lens?: Uint32Array; error?: string }

export class TokenizerPool {
  /** the batch in progress: batches run one after another (replies carry no batch id) */
  private last: Promise<unknown> = Promise.resolve();

  private constructor(private workers: Worker[]) {}

  /** Starts `threads` workers that each load the tokenizer. */
  static async create(source: PoolSource, threads = 2): Promise<TokenizerPool> {
    const workers = Array.from({ length: Math.max(1, threads) }, () => new Worker(new URL('./pool-worker.js', import.meta.url), { workerData: source }));
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
      w.once('error', reject);
    })));
    return new TokenizerPool(workers);
  }

  get threads(): number { return this.workers.length; }

  /** ids of each text, in order. */
  encodeBatch(texts: string[], opts: EncodeOptions = {}): Promise<Uint32Array[]> {
    const run = this.last.then(() => this.encodeNow(texts, opts), () => this.encodeNow(texts, opts));
    this.last = run.catch(() => undefined);
    return run;
  }

  private async encodeNow(texts: string[], opts: EncodeOptions): Promise<Uint32Array[]> {
    const chunks: [number, number][] = [];
    for (let a = 0, acc = 0, i = 0; i < texts.length; i++) {
      acc += texts[i].length;
      if (acc >= CHUNK_CHARS || i === texts.length - 1) { chunks.push([a, i + 1]); a = i + 1; acc = 0; }
    }
    const out: Uint32Array[] = new Array(texts.length);
    let next = 0;
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve, reject) => {
      const sent: number[] = [];  // chunk indices in flight on this worker, oldest first
      const send = () => {
        if (next >= chunks.length) return;
        const k = next++;
        sent.push(k);
        w.postMessage({ texts: texts.slice(chunks[k][0], chunks[k][1]), opts });
      };
      const done = (err?: Error) => { w.off('message', onMsg); w.off('error', onErr); if (err) reject(err); else resolve(); };
      const onMsg = (m: Reply) => {
        if (m.error) { done(new Error(m.error)); return; }
        send();  // keep two chunks in flight before slicing this one's ids
        const k = sent.shift()!;
        let o = 0, t = chunks[k][0];
        for (const n of m.lens!) { out[t++] = m.ids!.subarray(o, o + n); o += n; }
        if (sent.length === 0) done();
      };
      const onErr = (e: Error) => done(e);
      w.on('message', onMsg);
      w.once('error', onErr);
      send(); send();
      if (sent.length === 0) done();
    })));
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
