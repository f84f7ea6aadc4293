// The inference contract between the model side (weights, KV cache, quantized kernels: infer/model*)
// and the product side (sampling, generation, chat, server: infer/generate*, serve/). The product side
// only ever sees `CausalLM`, so any model (f32, bf16, Q8_0, Q4_0; loaded from HF or GGUF; or the
// full-recompute reference used in tests) plugs in unchanged.
import type { ModelConfig } from '../nn/config.js';

/** One sequence's place in the model: its KV cache holds `length` tokens (positions 0..length-1). */
export interface Sequence {
  readonly id: number;
  /** tokens already in the cache */
  readonly length: number;
  /** the most tokens the cache can hold (≤ max_position_embeddings) */
  readonly capacity: number;
}

/** New tokens for one sequence in a batched step; they take positions seq.length … seq.length+n-1. */
export interface StepInput {
  seq: Sequence;
  tokens: Int32Array;
  /** logits of every new token (prompt logprobs, perplexity); default: only the last token's */
  allLogits?: boolean;
}

export interface CausalLM {
  readonly config: ModelConfig;
  /** rows of the LM head that are real tokens; ids ≥ this (padding rows) must never be sampled */
  readonly vocabSize: number;
  /** a new empty sequence with room for `capacity` tokens (default max_position_embeddings) */
  newSequence(capacity?: number): Sequence;
  /** drops the last tokens of the cache (length → `length`), e.g. to reuse a shared prompt prefix */
  truncate(seq: Sequence, length: number): void;
  /** releases the sequence's cache memory */
  freeSequence(seq: Sequence): void;
  /**
   * Runs the new tokens of several sequences in one pass (continuous batching: linear layers see all
   * rows at once, attention runs per sequence against its own cache) and appends them to the caches.
   * Returns f32 logits, row-major [rows, config.vocab_size]: rows are, in input order, every token of
   * inputs with allLogits and the last token of the others.
   */
  step(inputs: StepInput[]): Float32Array;
  /** frees every weight and cache */
  dispose(): void;
}
