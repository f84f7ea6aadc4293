// Shared pieces of the generation tests (engine, sampler, CLI): a tiny random DeepSeekLM, an independent greedy reference
// (full recompute + a plain JS dot product for the LM head), a byte-level tokenizer, a scripted model
// that emits chosen ids, and a spy that records what the engine asks of a model.
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig, type ModelConfig } from '../../src/nn/config.js';
import { Tensor } from '../../src/core/tensor.js';
import { noGrad } from '../../src/core/autograd.js';
import { scope } from '../../src/core/scope.js';
import { Tokenizer, type TokenizerSpec } from '../../src/tokenizer/tokenizer.js';
import type { CausalLM, Sequence, StepInput } from '../../src/infer/types.js';

export const tinyConfig = (over: Partial<ModelConfig> = {}): ModelConfig => validateConfig({
  vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, max_position_embeddings: 48, eos_token_id: 1, ...over,
});

/** a random model whose logits are peaked enough that greedy choices are not near-ties */
export function tinyModel(seed = 7, over: Partial<ModelConfig> = {}): DeepSeekLM {
  return new DeepSeekLM(tinyConfig(over), { seed, initStd: 0.3 });
}

/** next-token logits (f64) of ids by recomputing the model and an explicit dot product with lm_head */
export function referenceLogits(lm: DeepSeekLM, ids: number[]): Float64Array {
  const C = lm.config.hidden_size, V = lm.config.vocab_size;
  const h = noGrad(() => scope(() => Float32Array.from(lm.hidden(Tensor.from(ids, [1, ids.length], 'i32')).f32)));
  const last = h.subarray((ids.length - 1) * C), W = lm.lm_head.f32;
  const out = new Float64Array(V);
  for (let v = 0; v < V; v++) { let s = 0; for (let c = 0; c < C; c++) s += last[c] * W[v * C + c]; out[v] = s; }
  return out;
}

/** greedy continuation by the reference: argmax over ids < vocabSize, stopping at stopIds */
export function referenceGreedy(lm: DeepSeekLM, prompt: number[], n: number, vocabSize = lm.config.vocab_size, stopIds: number[] = []): number[] {
  const ids = [...prompt], out: number[] = [];
  while (out.length < n && ids.length < lm.config.max_position_embeddings) {
    const l = referenceLogits(lm, ids);
    let best = 0;
    for (let v = 1; v < vocabSize; v++) if (l[v] > l[best]) best = v;
    out.push(best); ids.push(best);
    if (stopIds.includes(best)) break;
  }
  return out;
}

/** ids 0..255 are the bytes, 256 is <eos> (special), vocabulary padded to 260 */
export function byteTokenizer(): Tokenizer {
  const spec: TokenizerSpec = {
    name: 'bytes', tokens: Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)), mode: 'merges', merges: [],
    preTokenizer: null, dollar: 'text-end', addedTokens: [{ id: 256, content: '<eos>', special: true }], eos: 256, vocabSize: 260,
  };
  return new Tokenizer(spec);
}

export const EOS = 256;
export const bytesOf = (s: string): number[] => Array.from(new TextEncoder().encode(s));

/**
 * A CausalLM that emits a script: the next token after a sequence of L tokens is next(L, tokens)
 * (logit 10, others 0). Records every step's inputs and the live sequences.
 */
export class ScriptedLM implements CausalLM {
  readonly config: ModelConfig;
  readonly vocabSize: number;
  readonly log: { seq: number; tokens: number[] }[][] = [];
  live = new Set<number>();
  private nextSeq = 1;
  private seqs = new Map<number, number[]>();

  constructor(private next: (tokens: number[]) => number, ctx = 64, vocab = 260, real = 257) {
    this.config = validateConfig({ vocab_size: vocab, hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 1, max_position_embeddings: ctx });
    this.vocabSize = real;
  }

  newSequence(capacity = this.config.max_position_embeddings): Sequence {
    const id = this.nextSeq++;
    this.seqs.set(id, []);
    this.live.add(id);
    const seqs = this.seqs;
    return { id, capacity, get length() { return seqs.get(id)?.length ?? 0; } };
  }
  truncate(seq: Sequence, length: number): void { this.seqs.get(seq.id)!.length = length; }
  freeSequence(seq: Sequence): void { this.live.delete(seq.id); this.seqs.delete(seq.id); }
  step(inputs: StepInput[]): Float32Array {
    const V = this.config.vocab_size;
    this.log.push(inputs.map((i) => ({ seq: i.seq.id, tokens: Array.from(i.tokens) })));
    const out = new Float32Array(inputs.length * V);
    inputs.forEach((inp, r) => {
      const t = this.seqs.get(inp.seq.id)!;
      if (t.length + inp.tokens.length > inp.seq.capacity) throw new Error('over capacity');
      t.push(...inp.tokens);
      out[r * V + this.next(t)] = 10;
    });
    return out;
  }
  dispose(): void {}
}

/** wraps a model, recording each step's inputs and which sequences are alive */
export class SpyLM implements CausalLM {
  readonly log: { seq: number; n: number }[][] = [];
  live = new Set<number>();
  created = 0;
  constructor(readonly inner: CausalLM) {}
  get config() { return this.inner.config; }
  get vocabSize() { return this.inner.vocabSize; }
  newSequence(capacity?: number): Sequence { const s = this.inner.newSequence(capacity); this.live.add(s.id); this.created++; return s; }
  truncate(seq: Sequence, length: number): void { this.inner.truncate(seq, length); }
  freeSequence(seq: Sequence): void { this.live.delete(seq.id); this.inner.freeSequence(seq); }
  step(inputs: StepInput[]): Float32Array {
    this.log.push(inputs.map((i) => ({ seq: i.seq.id, n: i.tokens.length })));
    return this.inner.step(inputs);
  }
  dispose(): void { this.inner.dispose(); }
}
