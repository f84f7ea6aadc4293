// Batch encoding in worker threads. Each worker loads the tokenizer once (from its file, or from a
// spec sent by structured clone); a batch is cut into one contiguous run of texts per worker,
// balanced by length, and ids come back as transferred buffers.
import { Worker } from 'node:worker_threads';
import type { EncodeOptions, TokenizerSpec } from './tokenizer.js';

export interface PoolSource { path?: string; spec?: TokenizerSpec }

export class TokenizerPool {
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
  async encodeBatch(texts: string[], opts: EncodeOptions = {}): Promise<Uint32Array[]> {
    const total = texts.reduce((s, t) => s + t.length, 0);
    const per = total / this.workers.length;
    const runs: [number, number][] = [];
    let start = 0, acc = 0;
    for (let i = 0; i < texts.length && runs.length < this.workers.length - 1; i++) {
      acc += texts[i].length;
      if (acc >= per * (runs.length + 1)) { runs.push([start, i + 1]); start = i + 1; }
    }
    runs.push([start, texts.length]);
    const parts = await Promise.all(runs.map(([a, b], k) => new Promise<Uint32Array[]>((resolve, reject) => {
      const w = this.workers[k];
      const onMsg = (m: { ids?: Uint32Array; lens?: Uint32Array; error?: string }) => {
        w.off('error', onErr);
        if (m.error) { reject(new Error(m.error)); return; }
        const out: Uint32Array[] = [];
        let o = 0;
        for (const n of m.lens!) { out.push(m.ids!.subarray(o, o + n)); o += n; }
        resolve(out);
      };
      const onErr = (e: Error) => { w.off('message', onMsg); reject(e); };
      w.once('message', onMsg);
      w.once('error', onErr);
      w.postMessage({ texts: texts.slice(a, b), opts });
    })));
    return parts.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
