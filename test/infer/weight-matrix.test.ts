// WeightMatrix: stacking (same and mixed formats), conversion, matmul routing (dot and gemm modes
// agree with a plain f64 product of the stored weights), and WeightSource byte-count checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backends/select.js';
import { WeightMatrix, DOT_MAX_ROWS } from '../../src/infer/weight-matrix.js';
import { loadWeights } from '../../src/infer/load.js';
import { ModuleWeightSource } from '../../src/infer/model-source.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import type { RawWeight, WeightSource } from '../../src/infer/weight-source.js';
import { Rng, randn, relErr } from '../util.js';
import { tinyGqa } from './helpers.js';

await selectBackend('native');

test('concatRows stacks rows; mixed formats meet exactly in f32', () => {
  const rng = new Rng(1);
  const a = WeightMatrix.fromF32(randn(rng, 3 * 64), 3, 64).convert('q8_0');
  const b = WeightMatrix.fromF32(randn(rng, 5 * 64), 5, 64).convert('q8_0');
  const same = WeightMatrix.concatRows([a, b]);
  assert.equal(same.dtype, 'q8_0');
  assert.equal(same.rows, 8);
  assert.deepEqual(same.toF32(), Float32Array.from([...a.toF32(), ...b.toF32()]));
  const c = WeightMatrix.fromF32(randn(rng, 2 * 64), 2, 64);
  const mixed = WeightMatrix.concatRows([a, c]);
  assert.equal(mixed.dtype, 'f32');
  assert.deepEqual(mixed.toF32(), Float32Array.from([...a.toF32(), ...c.toF32()]));
});

test('matmul in both modes equals the f64 product of the stored weights', () => {
  const rng = new Rng(2);
  const n = 40, k = 96;
  for (const fmt of ['f32', 'bf16', 'f16', 'q8_0', 'q4_0'] as const) {
    const w = WeightMatrix.fromF32(randn(rng, n * k), n, k).convert(fmt);
    const wf = w.toF32();
    for (const m of [1, DOT_MAX_ROWS, DOT_MAX_ROWS + 3]) {
      const x = randn(rng, m * k), y = new Float32Array(m * n), want = new Float64Array(m * n);
      for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += x[r * k + t] * wf[j * k + t];
        want[r * n + j] = s;
      }
      w.matmul(y, x, m);
      // f32/f16 exact up to summation order; others round activations (q8_0 blocks or bf16)
      const tol = fmt === 'f32' || fmt === 'f16' ? 1e-5 : 1.5e-2;
      assert.ok(relErr(y, want) < tol, `${fmt}, ${m} rows: ${relErr(y, want)}`);
    }
  }
});

test('a WeightSource whose bytes disagree with its shape is refused, naming the tensor', () => {
  const inner = new ModuleWeightSource(new DeepSeekLM(tinyGqa, { seed: 1 }));
  const bad: WeightSource = {
    config: inner.config, origin: 'broken.gguf', names: () => inner.names(),
    get(name: string): RawWeight {
      const w = inner.get(name);
      return name.endsWith('o_proj.weight') ? { ...w, dtype: 'q8_0' } : w;
    },
  };
  assert.throws(() => loadWeights(bad), /broken.gguf: "model.layers.0.self_attn.o_proj.weight" holds 16384 bytes, q8_0 \[64,64\] needs 4352/);
});

test('RandomWeightSource: same seed and name ⇒ same tensor, in any order; loads into the model', async () => {
  const { RandomWeightSource } = await import('../../src/infer/random-source.js');
  const { InferenceModel } = await import('../../src/infer/model.js');
  const a = new RandomWeightSource(tinyGqa, 3), b = new RandomWeightSource(tinyGqa, 3), c = new RandomWeightSource(tinyGqa, 4);
  const name = 'model.layers.1.mlp.up_proj.weight';
  const first = a.get(name).bytes;
  b.get('model.embed_tokens.weight');
  assert.deepEqual(b.get(name).bytes, first);
  assert.notDeepEqual(c.get(name).bytes, first);
  const m = InferenceModel.fromSource(a, { weights: 'q8_0' });
  assert.deepEqual(m.formats(), { embed: 'q8_0', layers: 'q8_0', head: 'q8_0' });
  const s = m.newSequence();
  const lg = m.step([{ seq: s, tokens: Int32Array.of(1, 2, 3) }]);
  assert.equal(lg.length, tinyGqa.vocab_size);
  assert.ok(lg.every(Number.isFinite));
});
