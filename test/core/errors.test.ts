// Bad input to ops and kernels: a clear error naming the op, the shapes and the layer; never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backends/select.js';
import { kernels } from '../../src/core/runtime.js';
import { Tensor } from '../../src/core/tensor.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';
import { linear } from '../../src/ops/linear.js';
import { attention } from '../../src/ops/attention.js';
import { inLayer } from '../../src/core/errors.js';

await selectBackend('native');

test('op errors name the op, the shapes and the layer', () => {
  const x = Tensor.zeros([2, 3, 8]), w = Tensor.zeros([4, 6]);
  assert.throws(() => inLayer('model.layers.7.mlp', () => linear(x, w)),
    /^OpError: linear in model\.layers\.7\.mlp: input f32\[2,3,8\] does not match weight f32\[4,6\]/);
  const q = Tensor.zeros([1, 4, 16]), k = Tensor.zeros([1, 4, 12]);
  assert.throws(() => inLayer('model.layers.0.self_attn', () => attention(q, k, k, 4, 3)), /attention in model\.layers\.0\.self_attn: kv heads \(3\) must divide query heads \(4\)/);
});

test('the model rejects ids and targets of the wrong shape or range', () => {
  const m = new DeepSeekLM(validateConfig({ vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 }));
  const ids = Tensor.from([1, 2, 3, 4], [1, 4], 'i32');
  assert.throws(() => m.loss(ids, Tensor.from([1, 2, 3], [1, 3], 'i32')), /lm_head_loss in lm_head: targets i32\[1,3\] must be i32 with 4 elements/);
  assert.throws(() => m.loss(Tensor.from([1, 2, 30, 4], [1, 4], 'i32'), ids), /embedding.*ids\[2\] = 30 is out of range/);
  assert.throws(() => m.loss(ids, Tensor.from([1, 2, 99, 4], [1, 4], 'i32')), /targets\[2\] = 99/);
});

test('the addon validates raw kernel arguments instead of crashing', () => {
  const k = kernels();
  const a = new Float32Array(6), c = new Float32Array(4);
  assert.throws(() => k.gemm({ m: 2, n: 2, k: 3, a, b: new Float32Array(5), c }), /gemm/);
  assert.throws(() => k.gemm({ m: 2, n: 2, k: 3, a: new Int32Array(6) as unknown as Float32Array, b: a, c }), /gemm/);
  assert.throws(() => k.rmsnormForward(new Float32Array(4), null, new Float32Array(3), new Float32Array(2), 2, 2, 1e-6), /rmsnorm/i);
  assert.throws(() => k.adamw(new Float32Array(4), new Float32Array(2), new Float32Array(4), new Float32Array(4), 4, 1e-3, 0.9, 0.95, 1e-8, 0.1, 1, 1, null), /adamw/);
});
