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

// ---- the generation engine (infer/generate*), used by `dsllm generate`, `dsllm chat` and `dsllm serve` ----

export interface SamplingOptions {
  /** 0 = greedy (default 1) */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  /** CTRL-style: logits of already-seen ids divided (if > 0) or multiplied (if < 0) by it */
  repetitionPenalty?: number;
  /** OpenAI-style: logit −= frequencyPenalty·count + presencePenalty·[count > 0] */
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** same seed and request ⇒ same tokens */
  seed?: number;
}

export interface GenerationRequest {
  prompt: Int32Array;
  maxTokens: number;
  sampling?: SamplingOptions;
  /** stop strings (not included in the output text) */
  stop?: string[];
  /** ids that end generation (default: the model's EOS id) */
  stopIds?: number[];
  /** > 0: report the chosen token's logprob and this many top alternatives */
  logprobs?: number;
  /** aborting ends the request with finishReason 'cancelled' and frees its cache */
  signal?: AbortSignal;
}

export interface TokenEvent {
  id: number;
  /** text completed by this token: whole UTF-8 characters only (may be '' mid-character) */
  text: string;
  logprob?: number;
  top?: { id: number; text: string; logprob: number }[];
}

export interface GenerationResult {
  ids: number[];
  text: string;
  finishReason: 'stop' | 'length' | 'cancelled';
  promptTokens: number;
  completionTokens: number;
  /** per generated token when logprobs was asked */
  tokens?: TokenEvent[];
}

/** Concurrent generate() calls are decoded together (continuous batching over CausalLM.step). */
export interface Engine {
  readonly model: CausalLM;
  generate(req: GenerationRequest, onToken?: (e: TokenEvent) => void): Promise<GenerationResult>;
  /** stops accepting work, cancels what runs, frees caches */
  close(): Promise<void>;
}
