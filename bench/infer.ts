// Inference suite: InferenceModel prompt processing (pp256: one 256-token prefill step) and greedy
// generation (tg128: 128 single-token steps from an empty cache), as llama-bench measures them, for
// presets micro and small (1b with --case 1b; --quick: micro only) with f32, q8_0 and q4_0 weights (random, fixed
// seed). Cases `<preset>-<fmt>-<pp256|tg128>`, tok/s, against the llama.cpp peer on the same weights
// when one is plugged in (see InferPeer below). Both sides are timed alternately, one repetition each
// in turn after one warm-up each, at 1 and 2 threads; each side's figure is its median at its better
// thread count (noted), so a change in the load of this shared machine hits both. Every tg128 case also reports the decode's weight
// traffic, bytes of weights per token × tokens/s, against the memory bandwidth measured in the same
// run (a threaded read of 1 GiB): the fraction of the bandwidth bound decoding reaches.
import type { BenchOptions, BenchRow } from './common.js';
import { emit, median, note, spreadOf } from './common.js';
import { selectBackend } from '../src/backends/select.js';
import { kernels } from '../src/core/runtime.js';
import { PRESETS, validateConfig } from '../src/nn/config.js';
import { InferenceModel } from '../src/infer/model.js';
import { DeepSeekLM } from '../src/nn/deepseek.js';
import { addon } from '../src/backends/native/addon.js';

export type InferFormat = 'f32' | 'q8_0' | 'q4_0';
export type InferTest = 'pp256' | 'tg128';

/**
 * The llama.cpp peer (node-llama-cpp on a GGUF export of the same weights), written by the GGUF side:
 * a module bench/infer-peer.js exporting `inferPeer`. Until it exists the rows say "no peer".
 */
export interface InferPeer {
  name: string;
  /** llama.cpp on `model` stored as fmt (a GGUF export of it), or why it cannot run */
  open(model: DeepSeekLM, fmt: InferFormat): Promise<PeerRun | { why: string }>;
}
/** one timed repetition per call, tokens/s */
export interface PeerRun { rep(test: InferTest, threads: number): Promise<number>; close(): Promise<void> }

async function loadPeer(): Promise<InferPeer | null> {
  const path = './infer-peer.js';  // a variable: the module is optional
  try { return ((await import(path)) as { inferPeer: InferPeer }).inferPeer; } catch { return null; }
}

function row(c: string, metric: string, unit: string, ours: number[], peer: string | null, peerValue: number | null, why?: string): BenchRow {
  const o = median(ours);
  return {
    suite: 'infer', case: c, metric, unit, ours: o, peer, peer_value: peerValue,
    ratio: peerValue ? o / peerValue : null, reps: ours.length, spread: spreadOf(ours), note: why,
  };
}

/** GB/s of a threaded sequential read of 1 GiB (median of reps) */
export function measureBandwidth(reps: number): number[] {
  const buf = new Uint8Array(1 << 30);
  for (let i = 0; i < buf.length; i += 4096) buf[i] = i & 0xff;  // touch every page
  const k = kernels();
  k.streamRead(buf);
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    k.streamRead(buf);
    out.push(buf.length / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e9);
  }
  return out;
}

/** one 256-token prefill step from an empty cache, tokens/s */
function prefillOnce(m: InferenceModel, ids: Int32Array): number {
  const s = m.newSequence(ids.length + 1);
  const t0 = process.hrtime.bigint();
  m.step([{ seq: s, tokens: ids }]);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  m.freeSequence(s);
  return ids.length / sec;
}

/** n greedy single-token steps from an empty cache, tokens/s */
function decodeOnce(m: InferenceModel, n: number): number {
  const V = m.vocabSize;
  const tok = new Int32Array(1);
  const s = m.newSequence(n + 1);
  tok[0] = 1;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const lg = m.step([{ seq: s, tokens: tok }]);
    let best = 0;
    for (let j = 1; j < V; j++) if (lg[j] > lg[best]) best = j;
    tok[0] = best;
  }
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  m.freeSequence(s);
  return n / sec;
}

/** the reps of the thread count with the better median */
function better(byThreads: Map<number, number[]>): { reps: number[]; threads: number } {
  let out = { reps: [] as number[], threads: 0 };
  for (const [threads, reps] of byThreads) if (!out.reps.length || median(reps) > median(out.reps)) out = { reps, threads };
  return out;
}

export async function run(opts: BenchOptions): Promise<void> {
  await selectBackend('native');
  // 1b (4.4 GB of f32 weights to initialize) only when asked for: --case 1b
  const presets = opts.quick ? ['micro'] : ['micro', 'small', ...(opts.cases.some((c) => c.startsWith('1b')) ? ['1b'] : [])];
  const fmts: InferFormat[] = ['f32', 'q8_0', 'q4_0'];
  const reps = Math.max(1, Math.min(opts.reps, 5));
  const peer = await loadPeer();
  if (!peer) note('infer: no llama.cpp peer module (bench/infer-peer.js); rows report ours only', opts);
  const bw = measureBandwidth(Math.max(3, reps));
  const bwMed = median(bw);
  emit({ suite: 'infer', case: 'memory-bandwidth', metric: 'read', unit: 'GB/s', ours: bwMed, peer: null, peer_value: null, ratio: null, reps: bw.length, spread: spreadOf(bw) }, opts);
  const wanted = (c: string) => !opts.cases.length || opts.cases.some((w) => c.startsWith(w));
  for (const preset of presets) {
    // a preset is built when some case asked for falls under it (`1b`, `1b-f32`, `1b-f32-tg128`)
    if (opts.cases.length && !fmts.some((f) => opts.cases.some((w) => w.startsWith(`${preset}-${f}`) || `${preset}-${f}`.startsWith(w)))) continue;
    const cfg = validateConfig(PRESETS[preset], preset);
    const base = new DeepSeekLM(cfg, { seed: 1 });  // the peer exports these same weights to GGUF
    const ids = Int32Array.from({ length: 256 }, (_, i) => (i * 7919 + 13) % cfg.vocab_size);
    for (const fmt of fmts) {
      const tests = (['pp256', 'tg128'] as InferTest[]).filter((t) => wanted(`${preset}-${fmt}-${t}`));
      if (!tests.length) continue;
      const m = InferenceModel.fromModel(base, { weights: fmt });
      const opened = peer ? await peer.open(base, fmt) : { why: 'llama.cpp peer not plugged in' };
      const run = 'rep' in opened ? opened : null;
      let peerWhy = run ? undefined : (opened as { why: string }).why;
      const peerRep = async (test: InferTest, t: number): Promise<number | null> => {
        if (!run || peerWhy) return null;
        try { return await run.rep(test, t); } catch (e) { peerWhy = `llama.cpp failed: ${(e as Error).message.split('\n')[0]}`; return null; }
      };
      for (const test of tests) {
        const c = `${preset}-${fmt}-${test}`;
        // as BENCH.md does for llama.cpp on this 2-core machine: the better of 1 and 2 threads
        const ourReps = new Map<number, number[]>(), peerReps = new Map<number, number[]>();
        for (const t of [1, 2]) {
          ourReps.set(t, []); peerReps.set(t, []);
          for (let r = 0; r <= reps; r++) {  // r = 0 warms both up
            addon.setNumThreads(t);
            const o = test === 'pp256' ? prefillOnce(m, ids) : decodeOnce(m, 128);
            addon.setNumThreads(2);
            const p = await peerRep(test, t);
            if (r === 0) continue;
            ourReps.get(t)!.push(o);
            if (p !== null) peerReps.get(t)!.push(p);
          }
        }
        const ours = better(ourReps).reps, threads = better(ourReps).threads;
        const pb = peerWhy ? null : better(peerReps);
        const pv = pb ? median(pb.reps) : null;
        const why = pb ? `llama.cpp (node-llama-cpp) at ${pb.threads} thr` : peerWhy;
        emit(row(c, 'tokens', 'tok/s', ours, pv === null ? null : peer!.name, pv, [`${threads} thr`, why].filter(Boolean).join('; ')), opts);
        if (test === 'tg128') {
          const bytes = m.weightBytesPerToken();
          const traffic = ours.map((t) => (t * bytes) / 1e9);
          emit(row(c, 'weight-traffic', 'GB/s', traffic, 'memory-bandwidth', bwMed, `${(bytes / 1e6).toFixed(0)} MB of weights per token`), opts);
        }
      }
      m.dispose();
      await run?.close();
    }
  }
}
