// A TokenizerPool thread: loads the tokenizer, then encodes each chunk of texts it is sent into one
// id buffer (no buffer per text) and sends back the ids and each text's count.
import { parentPort, workerData } from 'node:worker_threads';
import { Tokenizer } from './tokenizer.js';
import { loadTokenizer } from './formats/load.js';
import { IdBuffer } from './id-buffer.js';
import type { PoolSource } from './pool.js';
import type { EncodeOptions } from './tokenizer.js';

let tok: Tokenizer;
try {
  const src = workerData as PoolSource;
  tok = src.spec ? new Tokenizer(src.spec) : loadTokenizer(src.path!);
  parentPort!.postMessage({ ready: true });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
parentPort!.on('message', (m: { texts: string[]; opts: EncodeOptions }) => {
  try {
    const all = new IdBuffer(1 << 16);
    const lens = new Uint32Array(m.texts.length);
    m.texts.forEach((t, i) => { const before = all.n; tok.appendEncoded(t, all, m.opts); lens[i] = all.n - before; });
    const ids = all.a.slice(0, all.n);
    parentPort!.postMessage({ ids, lens }, [ids.buffer, lens.buffer]);
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).message });
  }
});
