// A TokenizerPool thread: loads the tokenizer, then encodes each chunk it is sent (its texts joined
// into one string, with their lengths) into one id buffer and sends back the ids and each text's count.
import { parentPort, workerData } from 'node:worker_threads';
import { Tokenizer } from './tokenizer.js';
import { loadTokenizer } from './formats/load.js';
import { IdBuffer } from './id-buffer.js';
import type { ChunkRequest, PoolWorkerData } from './pool.js';

let tok: Tokenizer;
try {
  const { source: src, cpu } = workerData as PoolWorkerData;
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
const all = new IdBuffer(1 << 14);  // reused: only the ids sent back are a new buffer
parentPort!.on('message', (m: ChunkRequest) => {
  try {
    all.n = 0;
    const counts = new Uint32Array(m.lens.length);
    for (let i = 0, at = 0; i < m.lens.length; at += m.lens[i], i++) {
      const before = all.n;
      tok.appendEncoded(m.text.substring(at, at + m.lens[i]), all, m.opts);
      counts[i] = all.n - before;
    }
    const ids = all.a.slice(0, all.n);
    parentPort!.postMessage({ ids, counts }, [ids.buffer, counts.buffer]);
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).message });
  }
});
