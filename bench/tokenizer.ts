// Tokenizer speed against tiktoken (npm, WASM) on cl100k_base, side by side in one run:
//   cl100k-<corpus>          single-thread encode MB/s, ours vs tiktoken.encode_ordinary
//   cl100k-<corpus>-2threads TokenizerPool.encodeBatchFlat, 2 workers vs 1 worker (the peer is ourselves).
//                            Workers are pinned: the one-worker pool runs on CPU 0 and on CPU 1 in
//                            turn, and the ratio is against the faster of the two. The vCPUs of this
//                            VM do not run at the same speed (a busy neighbour slows one, by 0-60%,
//                            and which one changes), so the note gives each CPU's own speed on this
//                            workload, the ceiling they allow, (v0 + v1) / max(v0, v1), and the
//                            share of it that two workers reach.
//   cpu-2threads             the machine's own 2-thread scaling: a busy loop in 2 worker threads vs 1
//   cl100k-nosplit-100k      ms to encode a 100 kB string with no split point (bar: < 100 ms)
//   deepseek-llm-<corpus>    our DeepSeek vocabulary, MB/s (no peer: tiktoken has no such vocab)
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { emit, median, note, spreadOf, timeReps, type BenchOptions } from './common.js';
import { loadTokenizer } from '../src/tokenizer/formats/load.js';
import { TokenizerPool, type PoolOptions } from '../src/tokenizer/pool.js';
import { availableParallelism } from 'node:os';
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
      // pinned when the machine has two CPUs to pin to (the addon does it), else left to the OS
      const pin = availableParallelism() >= 2;
      const make = (threads: number, opt: PoolOptions) => TokenizerPool.create({ path: 'cl100k_base' }, threads, pin ? opt : {});
      const ones = pin ? [await make(1, { cpus: [0] }), await make(1, { cpus: [1] })] : [await make(1, {})];
      const two = await make(2, { cpus: [0, 1] });
      const pools = [...ones, two];
      // warm-up: three batches each. A worker's piece cache fills with the pieces of the chunks it
      // happened to take, so after one batch each of two workers has seen about half of the text
      // and its next batch still misses (the first timed 2-worker batch ran 1.4-1.7x the later ones)
      for (let w = 0; w < 3; w++) for (const p of pools) p.release(await p.encodeBatchFlat(docs));
      // flat output (one buffer + offsets, what a shard writer wants) is the scaling row, each batch
      // handed back with release() as a shard writer does once it has written the ids; the note
      // gives the per-text API (one view per text, made on this thread) for comparison.
      // The pools take turns rep by rep, so that the host's swings (seconds long) fall on all of
      // them; a batch takes ~0.03-0.1 s, so the scaling rows take twice the repetitions.
      const timed = async (f: () => Promise<unknown>) => { const t = performance.now(); await f(); return (performance.now() - t) / 1000; };
      const flatT = pools.map(() => [] as number[]), viewT = pools.map(() => [] as number[]);
      for (let r = 0; r < 2 * reps; r++) {
        for (const [i, p] of pools.entries()) flatT[i].push(await timed(async () => p.release(await p.encodeBatchFlat(docs))));
      }
      // the per-text API after, so that the garbage of its views does not land in the flat timings
      for (let r = 0; r < reps; r++) for (const [i, p] of pools.entries()) viewT[i].push(await timed(() => p.encodeBatch(docs)));
      for (const p of pools) await p.close();
      const speed = flatT.map((t) => mb / median(t));
      const oneV = speed.slice(0, ones.length), v2 = speed[ones.length];
      const best = oneV.indexOf(Math.max(...oneV));
      const ceiling = oneV.reduce((x, y) => x + y, 0) / oneV[best];
      const paired = flatT[best].map((x, r) => x / flatT[ones.length][r]);
      const perCpu = pin ? `one worker on CPU 0 ${oneV[0].toFixed(1)} MB/s, on CPU 1 ${oneV[1].toFixed(1)}: ceiling ${ceiling.toFixed(2)}×, ` +
        `two workers reach ${((v2 / oneV[best]) / ceiling * 100).toFixed(0)}% of it; ` : 'not pinned (one CPU); ';
      const views = `per-text views: 2 workers ${(mb / median(viewT[ones.length])).toFixed(1)} MB/s vs 1 worker ${(mb / median(viewT[best])).toFixed(1)}`;
      const pairs = `paired ratio median ${median(paired).toFixed(2)}× (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)})`;
      emit({ suite: 'tokenizer', case: c2, metric: 'encodeBatchFlat', unit: 'MB/s', ours: v2, peer: pin ? `ours-1-thread-cpu${best}` : 'ours-1-thread', peer_value: oneV[best],
        ratio: v2 / oneV[best], reps: flatT[ones.length].length, spread: spreadOf(flatT[ones.length]),
        note: `${docs.length} texts; ${perCpu}${pairs}; ${views}` }, opts);
    }
  }
  for (const [c, kind, what] of [['cpu-2threads', 'alu', 'a busy loop: the host\'s 2-thread ceiling for work that stays in registers']] as const) {
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
