// Inference suite: InferenceModel prompt processing (pp256: one 256-token prefill step) and greedy
// generation (tg128: 128 single-token steps from an empty cache), as llama-bench measures them, for
// presets micro and small (1b with --case 1b; --quick: micro only) with f32, q8_0 and q4_0 weights (random, fixed
// seed). Cases `<preset>-<fmt>-<pp256|tg128>`, tok/s, against the llama.cpp peer on the same weights
// when one is plugged in (see InferPeer below); ours is the better of 1 and 2 threads (noted). Every tg128 case also reports the decode's weight
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
  /** tokens/s of llama.cpp on `model` stored as fmt (a GGUF export of it), or null with a reason */
  measure(model: DeepSeekLM, fmt: InferFormat, test: InferTest, reps: number): Promise<{ value: number | null; why?: string }>;
}

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

function timePrefill(m: InferenceModel, ids: Int32Array, reps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const s = m.newSequence(ids.length + 1);
    const t0 = process.hrtime.bigint();
    m.step([{ seq: s, tokens: ids }]);
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    m.freeSequence(s);
    if (r > 0) out.push(ids.length / sec);  // the first is warm-up
  }
  return out;
}

function timeDecode(m: InferenceModel, n: number, reps: number): number[] {
  const out: number[] = [];
  const V = m.vocabSize;
  const tok = new Int32Array(1);
  for (let r = 0; r <= reps; r++) {
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
    if (r > 0) out.push(n / sec);
  }
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
      const m = InferenceModel.fromModel(base, { weights: fmt });
      for (const test of ['pp256', 'tg128'] as InferTest[]) {
        const c = `${preset}-${fmt}-${test}`;
        if (!wanted(c)) continue;
        // as BENCH.md does for llama.cpp on this 2-core machine: the better of 1 and 2 threads
        let ours: number[] = [], threads = 0;
        for (const t of [2, 1]) {
          addon.setNumThreads(t);
          const r = test === 'pp256' ? timePrefill(m, ids, reps) : timeDecode(m, 128, reps);
          if (!ours.length || median(r) > median(ours)) { ours = r; threads = t; }
        }
        addon.setNumThreads(2);
        let pv: number | null = null, why: string | undefined = peer ? undefined : 'llama.cpp peer not plugged in';
        if (peer) ({ value: pv, why } = await peer.measure(base, fmt, test, reps));
        emit(row(c, 'tokens', 'tok/s', ours, pv === null ? null : peer!.name, pv, [`${threads} thr`, why].filter(Boolean).join('; ')), opts);
        if (test === 'tg128') {
          const bytes = m.weightBytesPerToken();
          const traffic = ours.map((t) => (t * bytes) / 1e9);
          emit(row(c, 'weight-traffic', 'GB/s', traffic, 'memory-bandwidth', bwMed, `${(bytes / 1e6).toFixed(0)} MB of weights per token`), opts);
        }
      }
      m.dispose();
    }
  }
}
