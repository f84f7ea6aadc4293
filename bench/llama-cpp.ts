// llama.cpp as a peer, through the `node-llama-cpp` npm package (devDependency, pinned 3.21.1; its
// prebuilt CPU binaries ship inside the package). Used by the parity tests (greedy tokens and full
// next-token distributions for given prompt ids) and by the infer bench (pp256 / tg128 tokens/s).
// The package is imported dynamically so that everything else works where it is not installed.
import type * as NodeLlamaCpp from 'node-llama-cpp';
import type { ControlledEvaluateInputItem, Token } from 'node-llama-cpp';
import { readGguf } from '../src/io/gguf.js';
import { median } from './common.js';

type Mod = typeof NodeLlamaCpp;
type Llama = Awaited<ReturnType<Mod['getLlama']>>;

let cached: Promise<{ mod: Mod; llama: Llama } | { error: string }> | null = null;

/** Loads node-llama-cpp's CPU build once; `error` says why when it cannot. */
export function loadLlamaCpp(): Promise<{ mod: Mod; llama: Llama } | { error: string }> {
  cached ??= (async () => {
    try {
      const mod = await import('node-llama-cpp');
      // maxThreads 0: a context's `threads` is then the exact count used, not a hint
      const llama = await mod.getLlama({ gpu: false, build: 'never', maxThreads: 0, logLevel: mod.LlamaLogLevel.error, progressLogs: false });
      return { mod, llama };
    } catch (e) {
      return { error: `node-llama-cpp cannot load: ${(e as Error).message.split('\n')[0]}` };
    }
  })();
  return cached;
}

/** rows of the model's vocabulary (tokenizer.ggml.tokens) */
function vocabOf(path: string): number {
  const t = readGguf(path).kv.get('tokenizer.ggml.tokens');
  if (!Array.isArray(t)) throw new Error(`${path}: no tokenizer.ggml.tokens`);
  return t.length;
}

export interface LlamaCppRun {
  /** greedy continuation after the prompt */
  generated: number[];
  /** log-softmax of the logits after every prompt token and every generated one but the last, [V] each */
  logprobs: Float64Array[];
}

/**
 * Runs a GGUF file in llama.cpp on prompt ids (no BOS added, no tokenizer involved), greedy, with an
 * f32 KV cache and no flash attention so that an f32 model is computed in f32 throughout.
 */
export async function llamaCppGreedy(path: string, prompt: readonly number[], maxNew: number, opts: { threads?: number } = {}): Promise<LlamaCppRun> {
  const peer = await loadLlamaCpp();
  if ('error' in peer) throw new Error(peer.error);
  const model = await peer.llama.loadModel({ modelPath: path, useMmap: false });
  try {
    const ctx = await model.createContext({
      contextSize: Math.max(256, prompt.length + maxNew + 8), batchSize: Math.max(prompt.length, 32), flashAttention: false,
      threads: opts.threads ?? 1, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32',
    });
    try {
      const seq = ctx.getSequence();
      const V = vocabOf(path);
      const logprobs: Float64Array[] = [];
      const dist = (p: Map<number, number> | undefined): Float64Array => {
        const row = new Float64Array(V).fill(-Infinity);
        for (const [t, pr] of p ?? []) row[t] = Math.log(pr);
        return row;
      };
      const first = await seq.controlledEvaluate(prompt.map((t, i): ControlledEvaluateInputItem => [t as Token, { generateNext: { probabilities: true, token: i === prompt.length - 1 } }]));
      for (let i = 0; i < prompt.length; i++) logprobs.push(dist(first[i]?.next.probabilities));
      const generated: number[] = [];
      let next = first[prompt.length - 1]?.next.token;
      while (generated.length < maxNew) {
        if (next == null) throw new Error('llama.cpp produced no token');
        generated.push(next as number);
        if (generated.length === maxNew) break;
        const r = await seq.controlledEvaluate([[next as Token, { generateNext: { probabilities: true, token: true } }]]);
        logprobs.push(dist(r[0]?.next.probabilities));
        next = r[0]?.next.token;
      }
      return { generated, logprobs };
    } finally {
      await ctx.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/**
 * llama.cpp's final hidden state (after output_norm, before the output matrix) at the last of `ids`,
 * so that raw logits can be formed (node-llama-cpp hands out probabilities only). Uses the embedding
 * path of the pinned node-llama-cpp (`_embeddings` context, `getEmbedding`), without the end token
 * its public embedding API appends. f32 KV cache, no flash attention.
 */
export async function llamaCppLastHidden(path: string, ids: readonly number[]): Promise<Float64Array> {
  const peer = await loadLlamaCpp();
  if ('error' in peer) throw new Error(peer.error);
  const model = await peer.llama.loadModel({ modelPath: path, useMmap: false });
  try {
    const opts = {
      contextSize: Math.max(256, ids.length + 8), batchSize: Math.max(ids.length, 32), flashAttention: false, threads: 1,
      experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32', _embeddings: true,
    } as Parameters<typeof model.createContext>[0];
    const ctx = await model.createContext(opts);
    try {
      const seq = ctx.getSequence();
      for await (const t of seq.evaluate(ids as Token[], { _noSampling: true } as Parameters<typeof seq.evaluate>[1])) { void t; break; }
      const native = (ctx as unknown as { _ctx: { getEmbedding(n: number): Float64Array } })._ctx;
      return Float64Array.from(native.getEmbedding(ids.length));
    } finally {
      await ctx.dispose();
    }
  } finally {
    await model.dispose();
  }
}

export interface LlamaCppSpeed {
  /** prompt processing of `pp` tokens in one batch, tokens/s (median of reps, better thread count) */
  pp: number; ppThreads: number;
  /** greedy generation of `tg` tokens one at a time, tokens/s (median of reps, better thread count) */
  tg: number; tgThreads: number;
}

/**
 * pp/tg tokens/s of llama.cpp on a GGUF file, measured as ours is: one warm-up run, then the median
 * of `reps` runs at each thread count, and the better thread count (BENCH.md: on 2 cores node's own
 * threads compete with ggml's spinning workers, so 1 thread can win at generation).
 */
export async function llamaCppSpeed(path: string, opts: { pp?: number; tg?: number; threads?: number[]; reps?: number } = {}): Promise<LlamaCppSpeed> {
  const peer = await loadLlamaCpp();
  if ('error' in peer) throw new Error(peer.error);
  const pp = opts.pp ?? 256, tg = opts.tg ?? 128, reps = opts.reps ?? 2;
  const model = await peer.llama.loadModel({ modelPath: path });
  const best: LlamaCppSpeed = { pp: 0, ppThreads: 0, tg: 0, tgThreads: 0 };
  try {
    const V = vocabOf(path);
    const prompt = Array.from({ length: pp }, (_, i) => ((i * 7919 + 13) % V) as Token);
    for (const threads of opts.threads ?? [1, 2]) {
      const ctx = await model.createContext({ contextSize: Math.max(512, pp + tg + 8), batchSize: Math.max(pp, 32), threads, flashAttention: false });
      try {
        const seq = ctx.getSequence();
        const ppRates: number[] = [], tgRates: number[] = [];
        for (let r = 0; r <= reps; r++) {  // run 0 warms up
          await seq.clearHistory();
          let t0 = performance.now();
          await seq.evaluateWithoutGeneratingNewTokens(prompt);
          if (r > 0) ppRates.push(pp / ((performance.now() - t0) / 1000));
          await seq.clearHistory();
          let n = 0;
          t0 = performance.now();
          for await (const tok of seq.evaluate([prompt[0]], { temperature: 0, yieldEogToken: true })) {
            void tok;
            if (++n >= tg) break;
          }
          if (r > 0) tgRates.push(n / ((performance.now() - t0) / 1000));
        }
        const ppRate = median(ppRates), tgRate = median(tgRates);
        if (ppRate > best.pp) { best.pp = ppRate; best.ppThreads = threads; }
        if (tgRate > best.tg) { best.tg = tgRate; best.tgThreads = threads; }
      } finally {
        await ctx.dispose();
      }
    }
  } finally {
    await model.dispose();
  }
  return best;
}
