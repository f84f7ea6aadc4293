// Shared by the inference tests: a tiny GQA configuration and full-recompute logits from DeepSeekLM.
import { kernels } from '../../src/core/runtime.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';
import { Tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { noGrad } from '../../src/core/autograd.js';

export const tinyGqa = validateConfig({
  vocab_size: 61, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, max_position_embeddings: 64, initializer_range: 0.1,
});

/** logits [T, V] of the whole sequence, recomputed by the training model */
export function fullLogits(model: DeepSeekLM, ids: number[]): Float32Array {
  const V = model.config.vocab_size, C = model.config.hidden_size, T = ids.length;
  return noGrad(() => scope(() => {
    const t = Tensor.empty([1, T], 'i32');
    t.i32.set(ids);
    const h = model.hidden(t);
    const out = new Float32Array(T * V);
    kernels().gemm({ m: T, n: V, k: C, a: h.f32, b: model.lm_head.f32, c: out, transB: true });
    return out;
  }));
}

