// llama.cpp as a peer, through the `node-llama-cpp` npm package (devDependency, pinned 3.21.1; its
// prebuilt CPU binaries ship inside the package). Used by the parity tests (greedy tokens and full
// next-token distributions for given prompt ids) and by the infer bench (pp256 / tg128 tokens/s).
// The package is imported dynamically so that everything else works where it is not installed.
import type * as NodeLlamaCpp from 'node-llama-cpp';
import type { ControlledEvaluateInputItem, Token } from 'node-llama-cpp';
import { readGguf } from '../src/io/gguf.js';

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

/**
 * pp/tg timing of llama.cpp on a GGUF file, one repetition per call so that a bench can alternate it
 * with its own (both then see the same state of a shared machine). One context per thread count,
 * made on first use and kept (as llama-bench keeps its context across repetitions); ggml's workers
 * sleep between calls.
 */
export interface LlamaCppSpeedSession {
  /** prompt processing of `pp` tokens in one batch, tokens/s */
  pp(threads: number): Promise<number>;
  /** greedy generation of `tg` tokens one at a time from an empty cache, tokens/s */
  tg(threads: number): Promise<number>;
  close(): Promise<void>;
}

export async function llamaCppSpeedSession(path: string, opts: { pp?: number; tg?: number } = {}): Promise<LlamaCppSpeedSession> {
  const peer = await loadLlamaCpp();
  if ('error' in peer) throw new Error(peer.error);
  const pp = opts.pp ?? 256, tg = opts.tg ?? 128;
  const model = await peer.llama.loadModel({ modelPath: path });
  const V = vocabOf(path);
  const prompt = Array.from({ length: pp }, (_, i) => ((i * 7919 + 13) % V) as Token);
  const contexts = new Map<number, NodeLlamaCpp.LlamaContext>();
  const withContext = async (threads: number, fn: (seq: NodeLlamaCpp.LlamaContextSequence) => Promise<number>): Promise<number> => {
    let ctx = contexts.get(threads);
    if (!ctx) {
      ctx = await model.createContext({ contextSize: Math.max(512, pp + tg + 8), batchSize: Math.max(pp, 32), threads, flashAttention: false });
      contexts.set(threads, ctx);
    }
    const seq = ctx.getSequence();
    try { await seq.clearHistory(); return await fn(seq); } finally { seq.dispose(); }
  };
  return {
    pp: (threads) => withContext(threads, async (seq) => {
      const t0 = performance.now();
      await seq.evaluateWithoutGeneratingNewTokens(prompt);
      return pp / ((performance.now() - t0) / 1000);
    }),
    tg: (threads) => withContext(threads, async (seq) => {
      let n = 0;
      const t0 = performance.now();
      for await (const tok of seq.evaluate([prompt[0]], { temperature: 0, yieldEogToken: true })) {
        void tok;
        if (++n >= tg) break;
      }
      return n / ((performance.now() - t0) / 1000);
    }),
    close: async () => {
      for (const c of contexts.values()) await c.dispose();
      await model.dispose();
    },
  };
}
