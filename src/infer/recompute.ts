// RecomputeLM: the CausalLM contract by brute force. Each sequence keeps its token ids, and every step
// runs the whole sequence through DeepSeekLM.hidden() again (no KV cache), so it is slow (O(T²) per
// token) but obviously correct: the oracle that the engine and the cached models are tested against,
// and the fallback model until a cached one is loaded.
import { DeepSeekLM } from '../nn/deepseek.js';
import { Tensor } from '../core/tensor.js';
import { scope } from '../core/scope.js';
import { noGrad } from '../core/autograd.js';
import { linear } from '../ops/linear.js';
import type { CausalLM, Sequence, StepInput } from './types.js';
import type { ModelConfig } from '../nn/config.js';
import { InferenceError } from './generate-errors.js';

class RecomputeSequence implements Sequence {
  tokens: number[] = [];
  freed = false;
  constructor(readonly id: number, readonly capacity: number) {}
  get length(): number { return this.tokens.length; }
}

export class RecomputeLM implements CausalLM {
  readonly config: ModelConfig;
  readonly vocabSize: number;
  private nextId = 1;

  /** vocabSize: real rows of the LM head (default all of config.vocab_size) */
  constructor(readonly lm: DeepSeekLM, opts: { vocabSize?: number } = {}) {
    this.config = lm.config;
    this.vocabSize = Math.min(opts.vocabSize ?? lm.config.vocab_size, lm.config.vocab_size);
  }

  newSequence(capacity = this.config.max_position_embeddings): Sequence {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > this.config.max_position_embeddings) {
      throw new InferenceError(`sequence capacity ${capacity} must be 1..${this.config.max_position_embeddings}`);
    }
    return new RecomputeSequence(this.nextId++, capacity);
  }

  truncate(seq: Sequence, length: number): void {
    const s = this.own(seq);
    if (!Number.isInteger(length) || length < 0 || length > s.tokens.length) throw new InferenceError(`truncate: length ${length} must be 0..${s.tokens.length}`);
    s.tokens.length = length;
  }

  freeSequence(seq: Sequence): void {
    const s = this.own(seq);
    s.freed = true;
    s.tokens = [];
  }

  /** logits of the last `rows` tokens of `ids` (the whole sequence recomputed) */
  private logitsOf(ids: number[], rows: number): Float32Array {
    return noGrad(() => scope(() => {
      const t = Tensor.from(ids, [1, ids.length], 'i32');
      const h = this.lm.hidden(t); // [1, T, C]
      const C = this.config.hidden_size;
      const last = Tensor.from(h.f32.subarray((ids.length - rows) * C, ids.length * C), [rows, C]);
      return Float32Array.from(linear(last, this.lm.lm_head).f32);
    }));
  }

  step(inputs: StepInput[]): Float32Array {
    const V = this.config.vocab_size;
    const parts: Float32Array[] = [];
    for (const inp of inputs) {
      const s = this.own(inp.seq);
      if (inp.tokens.length === 0) throw new InferenceError(`step: sequence ${s.id} has no new tokens`);
      if (s.tokens.length + inp.tokens.length > s.capacity) {
        throw new InferenceError(`step: sequence ${s.id} would hold ${s.tokens.length + inp.tokens.length} tokens, its capacity is ${s.capacity}`);
      }
      for (const id of inp.tokens) if (id < 0 || id >= V) throw new InferenceError(`step: token id ${id} is outside the model's vocabulary (0..${V - 1})`);
    }
    for (const inp of inputs) {
      const s = inp.seq as RecomputeSequence;
      s.tokens.push(...inp.tokens);
      parts.push(this.logitsOf(s.tokens, inp.allLogits ? inp.tokens.length : 1));
    }
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }

  dispose(): void {
    this.lm.dispose();
  }

  private own(seq: Sequence): RecomputeSequence {
    if (!(seq instanceof RecomputeSequence)) throw new InferenceError('sequence does not belong to this model');
    if (seq.freed) throw new InferenceError(`sequence ${seq.id} was freed`);
    return seq;
  }
}
