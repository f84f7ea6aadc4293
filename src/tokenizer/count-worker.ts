// Worker thread for training: counts the words of the chunks it is sent, then returns the counts.
import { parentPort, workerData } from 'node:worker_threads';
import { WordCounter, type Chunk, type CountConfig } from './word-count.js';

const counter = new WordCounter(workerData as CountConfig);
parentPort!.on('message', (msg: { chunk?: Chunk; done?: boolean }) => {
  if (msg.chunk) {
    counter.addChunk(msg.chunk);
    parentPort!.postMessage({ ready: true });
  } else if (msg.done) {
    parentPort!.postMessage({ words: [...counter.counts.keys()], counts: Float64Array.from(counter.counts.values()), pruned: counter.pruned, bytes: counter.bytes });
  }
});
