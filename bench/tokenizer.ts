// Tokenizer speed against tiktoken (npm, WASM) on cl100k_base, side by side in one run:
//   cl100k-<corpus>          single-thread encode MB/s, ours vs tiktoken.encode_ordinary
//   cl100k-<corpus>-2threads TokenizerPool.encodeBatchFlat, 2 workers vs 1 worker (the peer is ourselves)
//   cpu-2threads             the machine's own 2-thread scaling: a busy loop in 2 worker threads vs 1
//                            (on a shared host the second core can give far less than a core; read
//                            the -2threads rows against it)
//   cpu-2threads-lookup      the same for a loop shaped like the encoder (regex + string-keyed Map):
//                            two independent workers, no pool, no messages
//   cl100k-nosplit-100k      ms to encode a 100 kB string with no split point (bar: < 100 ms)
//   deepseek-llm-<corpus>    our DeepSeek vocabulary, MB/s (no peer: tiktoken has no such vocab)
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { emit, median, note, spreadOf, timeReps, type BenchOptions } from './common.js';
import { loadTokenizer } from '../src/tokenizer/formats/load.js';
import { TokenizerPool } from '../src/tokenizer/pool.js';
import { Worker } from 'node:worker_threads';

/** shared/data beside the repository (found by walking up), or $DSLLM_DATA */
function dataDir(): URL {
  if (process.env.DSLLM_DATA) return new URL(`file://${process.env.DSLLM_DATA.replace(/\/?$/, '/')}`);
  for (let u = new URL('./', import.meta.url), i = 0; i < 8; i++, u = new URL('../', u)) {
    const cand = new URL('shared/data/', u);
    if (existsSync(new URL('tokenizers/', cand))) return cand;
  }
  throw new Error('tokenizer bench: shared/data not found (set DSLLM_DATA)');
}
const DATA = dataDir();
const CORPORA: Record<string, string[]> = {
  en: ['corpus/en/tinyshakespeare.txt', 'corpus/en/tinystories_sample.txt'],
  zh: ['corpus/zh/tang_poems.txt', 'corpus/zh/song_ci.txt'],
};

function corpus(name: string, quick: boolean): string {
  const text = CORPORA[name].map((f) => readFileSync(new URL(f, DATA), 'utf8')).join('\n');
  return quick ? text.slice(0, 300_000) : text;
}

export async function run(opts: BenchOptions): Promise<void> {
  const want = (c: string) => !opts.cases.length || opts.cases.includes(c);
  const reps = Math.max(1, opts.reps);
  const ours = loadTokenizer('cl100k_base');
  let peer: { encode_ordinary(s: string): Uint32Array; free(): void } | null = null;
  try {
    const { get_encoding } = createRequire(import.meta.url)('tiktoken') as { get_encoding(n: string): typeof peer };
    peer = get_encoding('cl100k_base');
  } catch {
    note('tokenizer: tiktoken is not installed; peer rows are skipped (npm install tiktoken)', opts);
  }
  for (const name of Object.keys(CORPORA)) {
    const text = corpus(name, opts.quick);
    const mb = Buffer.byteLength(text) / 1e6;
    const c = `cl100k-${name}`;
    if (want(c)) {
      const a = timeReps(() => { ours.bpe.clearCache(); ours.encode(text); }, reps);
      const b = peer ? timeReps(() => peer!.encode_ordinary(text), reps) : null;
      const oursV = mb / median(a), peerV = b ? mb / median(b) : null;
      emit({ suite: 'tokenizer', case: c, metric: 'encode', unit: 'MB/s', ours: oursV, peer: peer ? 'tiktoken-wasm' : null,
        peer_value: peerV, ratio: peerV ? oursV / peerV : null, reps, spread: spreadOf(a) }, opts);
    }
    const c2 = `${c}-2threads`;
    if (want(c2)) {
      const docs = text.split('\n');
      const one = await TokenizerPool.create({ path: 'cl100k_base' }, 1), two = await TokenizerPool.create({ path: 'cl100k_base' }, 2);
      // warm-up: three batches each. A worker's piece cache fills with the pieces of the chunks it
      // happened to take, so after one batch each of two workers has seen about half of the text
      // and its next batch still misses (the first timed 2-worker batch ran 1.4-1.7x the later ones)
      for (let w = 0; w < 3; w++) { one.release(await one.encodeBatchFlat(docs)); two.release(await two.encodeBatchFlat(docs)); }
      // flat output (one buffer + offsets, what a shard writer wants) is the scaling row, each batch
      // handed back with release() as a shard writer does once it has written the ids; the note
      // gives the per-text API (one view per text, made on this thread) for comparison
      const t1: number[] = [], t2: number[] = [], v1s: number[] = [], v2s: number[] = [];
      // 1 and 2 workers alternate rep by rep; the per-text API runs after, so that the garbage of its
      // 56k views (collected on this thread) does not land inside the flat rows' timings
      const timed = async (f: () => Promise<unknown>) => { const t = performance.now(); await f(); return (performance.now() - t) / 1000; };
      // a batch takes ~0.1-0.3 s, so the scaling rows take twice the repetitions: the host's speed
      // swings within seconds, and the note's paired ratio (rep r of 1 worker over rep r of 2, taken
      // back to back) follows those swings less than the ratio of medians
      for (let r = 0; r < 2 * reps; r++) {
        t1.push(await timed(async () => one.release(await one.encodeBatchFlat(docs))));
        t2.push(await timed(async () => two.release(await two.encodeBatchFlat(docs))));
      }
      for (let r = 0; r < reps; r++) {
        v1s.push(await timed(() => one.encodeBatch(docs)));
        v2s.push(await timed(() => two.encodeBatch(docs)));
      }
      await one.close(); await two.close();
      const v2 = mb / median(t2), v1 = mb / median(t1);
      const views = `per-text views: 2 workers ${(mb / median(v2s)).toFixed(1)} MB/s vs 1 worker ${(mb / median(v1s)).toFixed(1)} (${(median(v1s) / median(v2s)).toFixed(2)}×)`;
      const paired = t1.map((x, r) => x / t2[r]);
      const pairs = `paired ratio median ${median(paired).toFixed(2)}× (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)})`;
      emit({ suite: 'tokenizer', case: c2, metric: 'encodeBatchFlat', unit: 'MB/s', ours: v2, peer: 'ours-1-thread', peer_value: v1, ratio: v2 / v1, reps: t2.length, spread: spreadOf(t2),
        note: `${docs.length} texts; ${pairs}; ${views}` }, opts);
    }
  }
  for (const [c, kind, what] of [['cpu-2threads', 'alu', 'the ceiling of any 2-thread ratio in this run'],
    ['cpu-2threads-lookup', 'lookup', 'independent workers, no messages: regex + Map lookups over 20k short strings, the encoder\'s hot path in miniature']] as const) {
    if (!want(c)) continue;
    const t1: number[] = [], t2: number[] = [];
    for (let r = 0; r < reps; r++) { t1.push(await busyLoops(1, kind)); t2.push(await busyLoops(2, kind)); }
    const v1 = 1 / median(t1), v2 = 2 / median(t2);
    emit({ suite: 'tokenizer', case: c, metric: `${kind} loop`, unit: 'loops/s', ours: v2, peer: 'one-thread', peer_value: v1, ratio: v2 / v1, reps, spread: spreadOf(t2),
      note: what }, opts);
  }
  if (want('cl100k-nosplit-100k')) {
    const s = 'x'.repeat(100_000);
    const a = timeReps(() => { ours.bpe.clearCache(); ours.encode(s); }, reps);
    const b = peer ? timeReps(() => peer!.encode_ordinary(s), 1, 0) : null;
    emit({ suite: 'tokenizer', case: 'cl100k-nosplit-100k', metric: 'encode', unit: 'ms', ours: median(a) * 1000, peer: peer ? 'tiktoken-wasm' : null,
      peer_value: b ? median(b) * 1000 : null, ratio: b ? median(b) / median(a) : null, reps, spread: spreadOf(a), note: 'bar < 100 ms; ratio = peer time / ours' }, opts);
  }
  const ds = new URL('tokenizers/deepseek-llm-vocab.gguf', DATA);
  for (const name of Object.keys(CORPORA)) {
    const c = `deepseek-llm-${name}`;
    if (!want(c)) continue;
    const tok = loadTokenizer(ds.pathname);
    const text = corpus(name, opts.quick), mb = Buffer.byteLength(text) / 1e6;
    const a = timeReps(() => { tok.bpe.clearCache(); tok.encode(text); }, reps);
    emit({ suite: 'tokenizer', case: c, metric: 'encode', unit: 'MB/s', ours: mb / median(a), peer: null, peer_value: null, ratio: null, reps, spread: spreadOf(a) }, opts);
  }
  peer?.free();
}

/** seconds for `n` worker threads to each run the same loop (~0.3 / 0.5 s on one free core) */
const LOOPS = {
  // integer adds in registers: what the host's second core gives when nothing is shared
  alu: 'const { parentPort } = require("node:worker_threads"); let x = 0; for (let i = 0; i < 3e8; i++) x += i & 7; parentPort.postMessage(x);',
  // what it gives to code shaped like the encoder (regex matches looked up in a string-keyed Map)
  lookup: `const { parentPort } = require("node:worker_threads");
    const words = []; for (let i = 0; i < 20000; i++) words.push(" w" + ((i * 2654435761) % 1e6).toString(36));
    const m = new Map(words.map((w, i) => [w, i]));
    const text = Array.from({ length: 400000 }, (_, i) => words[(i * 7919) % 20000]).join("");
    const re = / w[0-9a-z]+/g; let x = 0;
    for (let r = 0; r < 6; r++) { re.lastIndex = 0; let mm; while ((mm = re.exec(text))) x += m.get(mm[0]) ?? 0; }
    parentPort.postMessage(x);`,
};

async function busyLoops(n: number, kind: keyof typeof LOOPS): Promise<number> {
  const ws = Array.from({ length: n }, () => new Worker(LOOPS[kind], { eval: true }));
  await Promise.all(ws.map((w) => new Promise((resolve) => w.once('online', resolve))));
  const t = performance.now();
  await Promise.all(ws.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const s = (performance.now() - t) / 1000;
  await Promise.all(ws.map((w) => w.terminate()));
  return s;
}
