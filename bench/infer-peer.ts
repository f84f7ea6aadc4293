// The llama.cpp peer of the infer suite (bench/infer.ts loads this module when present): the bench's
// model exported to GGUF in the same format (io/gguf-export.ts, ggml-exact quantization), run by
// node-llama-cpp; pp256 and tg128 measured together, as many reps as ours (median after a warm-up),
// the better of 1 and 2 threads (BENCH.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferFormat, InferPeer, InferTest } from './infer.js';
import type { DeepSeekLM } from '../src/nn/deepseek.js';
import type { WeightSource } from '../src/infer/weight-source.js';
import { exportGguf } from '../src/io/gguf-export.js';
import { llamaCppSpeed, loadLlamaCpp, type LlamaCppSpeed } from './llama-cpp.js';

interface Entry { dir: string; speed: Promise<LlamaCppSpeed>; used: Set<InferTest> }
const runs = new WeakMap<DeepSeekLM | WeightSource, Map<InferFormat, Entry>>();

export const inferPeer: InferPeer = {
  name: 'llama.cpp',
  async measure(model: DeepSeekLM | WeightSource, fmt: InferFormat, test: InferTest, reps: number) {
    const peer = await loadLlamaCpp();
    if ('error' in peer) return { value: null, why: peer.error };
    let byFmt = runs.get(model);
    if (!byFmt) runs.set(model, (byFmt = new Map()));
    let e = byFmt.get(fmt);
    if (!e) {
      const dir = mkdtempSync(join(tmpdir(), 'dsllm-infer-peer-'));
      const path = join(dir, `model-${fmt}.gguf`);
      exportGguf(model, path, { type: fmt });
      e = { dir, speed: llamaCppSpeed(path, { pp: 256, tg: 128, threads: [1, 2], reps }), used: new Set() };
      byFmt.set(fmt, e);
    }
    try {
      const s = await e.speed;
      return test === 'pp256'
        ? { value: s.pp, why: `node-llama-cpp, best at ${s.ppThreads} thread(s)` }
        : { value: s.tg, why: `node-llama-cpp, best at ${s.tgThreads} thread(s)` };
    } catch (err) {
      return { value: null, why: `llama.cpp failed: ${(err as Error).message.split('\n')[0]}` };
    } finally {
      e.used.add(test);
      // both figures come from one run: the (possibly GB-sized) file goes once both were asked for
      if (e.used.size === 2) rmSync(e.dir, { recursive: true, force: true });
    }
  },
};
