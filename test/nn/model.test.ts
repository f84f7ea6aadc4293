// The whole model against independent references: the reference backend (plain TS kernels) for
// losses and every gradient, and central finite differences of the loss for sampled weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../src/core/runtime.js';
import { referenceKernels } from '../../src/backends/reference/index.js';
import { selectBackend } from '../../src/backends/select.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';
import { Tensor } from '../../src/core/tensor.js';
import { scope } from '../../src/core/scope.js';
import { backward, noGrad } from '../../src/core/autograd.js';
import { setComputeDType } from '../../src/ops/precision.js';
import { Rng, relErr } from '../util.js';

const tiny = validateConfig({
  vocab_size: 37, hidden_size: 24, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, max_position_embeddings: 16, initializer_range: 0.2,
});

function batch(seed: number, B: number, T: number, V: number) {
  const rng = new Rng(seed);
  const ids = Tensor.empty([B, T], 'i32'), tg = Tensor.empty([B, T], 'i32');
  for (let i = 0; i < B * T; i++) { ids.i32[i] = rng.int(V); tg.i32[i] = rng.int(V); }
  tg.i32[3] = -100; // one ignored target
  return { ids, tg };
}

function lossAndGrads(model: DeepSeekLM, ids: Tensor, tg: Tensor): { loss: number; grads: Map<string, Float32Array> } {
  const loss = scope(() => { const l = model.loss(ids, tg); const v = l.item(); backward(l); return v; });
  const grads = new Map<string, Float32Array>();
  for (const [n, p] of model.namedParameters()) { grads.set(n, Float32Array.from(p.grad!.f32)); p.grad!.f32.fill(0); }
  return { loss, grads };
}

test('native model loss and all gradients match the reference backend (GQA, 2 layers)', async () => {
  const { ids, tg } = batch(5, 2, 7, tiny.vocab_size);
  useBackend(referenceKernels);
  const refModel = new DeepSeekLM(tiny, { seed: 3 });
  const ref = lossAndGrads(refModel, ids, tg);
  await selectBackend('native');
  const natModel = new DeepSeekLM(tiny, { seed: 3 });
  const nat = lossAndGrads(natModel, ids, tg);
  assert.ok(Math.abs(nat.loss - ref.loss) / ref.loss < 1e-5, `loss ${nat.loss} vs ${ref.loss}`);
  for (const [name, g] of ref.grads) {
    const e = relErr(nat.grads.get(name)!, g);
    assert.ok(e < 1e-4, `${name}: gradient relative error ${e}`);
  }
});

test('model gradients match finite differences of the loss (reference backend, f64-sized steps)', () => {
  useBackend(referenceKernels);
  const model = new DeepSeekLM(tiny, { seed: 11 });
  const { ids, tg } = batch(9, 1, 6, tiny.vocab_size);
  const { grads } = lossAndGrads(model, ids, tg);
  const f = () => noGrad(() => scope(() => model.loss(ids, tg).item()));
  const rng = new Rng(2);
  for (const [name, p] of model.namedParameters()) {
    const g = grads.get(name)!;
    // the largest-gradient coordinate of each parameter: a well-conditioned check in f32
    let i = 0;
    for (let j = 0; j < g.length; j++) if (Math.abs(g[j]) > Math.abs(g[i])) i = j;
    if (Math.abs(g[i]) < 1e-4) continue;
    const x = p.f32, x0 = x[i], h = 1e-2 * Math.max(1, Math.abs(x0));
    x[i] = x0 + h; const fp = f(); x[i] = x0 - h; const fm = f(); x[i] = x0;
    const num = (fp - fm) / (2 * h);
    assert.ok(Math.abs(num - g[i]) <= 3e-2 * Math.abs(g[i]) + 1e-4, `${name}[${i}]: analytic ${g[i]} vs numeric ${num}`);
    void rng;
  }
});

test('bf16 compute stays close to f32 (mixed precision: f32 master weights and gradients)', async () => {
  await selectBackend('native');
  const model = new DeepSeekLM(tiny, { seed: 3 });
  const { ids, tg } = batch(5, 2, 7, tiny.vocab_size);
  const f32 = lossAndGrads(model, ids, tg);
  setComputeDType('bf16');
  try {
    const bf = lossAndGrads(model, ids, tg);
    assert.ok(Math.abs(bf.loss - f32.loss) / f32.loss < 1e-2, `loss ${bf.loss} vs ${f32.loss}`);
    for (const [name, g] of f32.grads) {
      const e = relErr(bf.grads.get(name)!, g);
      assert.ok(e < 5e-2, `${name}: bf16 gradient relative error ${e}`);
    }
  } finally { setComputeDType('f32'); }
});
