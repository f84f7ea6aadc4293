import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countParams, flopsPerToken, loadConfig, validateConfig, PRESETS } from '../../src/nn/config.js';
import { spawnSync } from 'node:child_process';

test('7B and 67B parameter counts equal the facts sheet (derived from the released shapes)', () => {
  assert.equal(countParams(loadConfig('deepseek-llm-7b')).total, 6_910_365_696);
  assert.equal(countParams(loadConfig('deepseek-llm-67b')).total, 67_425_001_472);
  assert.equal(countParams(loadConfig('deepseek-llm-7b')).non_embedding, 6_071_504_896);
  assert.equal(countParams(loadConfig('deepseek-llm-67b')).non_embedding, 65_747_279_872);
});

test('bench presets match the peer model (BENCH.md param_counts formula)', () => {
  // independent formula from ../shared/bench/peers/model.py: attn = 2d² + 2·d·kv·hd; ffn = 3·d·f; + 2d per layer
  for (const name of ['nano', 'micro', 'small', '1b']) {
    const c = PRESETS[name];
    const d = c.hidden_size, hd = d / c.num_attention_heads;
    const per = d * d * 2 + 2 * d * c.num_key_value_heads * hd + 3 * d * c.intermediate_size + 2 * d;
    const total = 2 * c.vocab_size * d + c.num_hidden_layers * per + d;
    assert.equal(countParams(loadConfig(name)).total, total, name);
  }
});

test("M reproduces the paper's Table 3 (n_vocab 102400, l_seq 4096)", () => {
  // rows: layers, d_model, N1, N2, M as printed in the paper (3 significant digits)
  const rows: [number, number, number, number, number][] = [
    [8, 512, 25.2e6, 77.6e6, 352e6], [12, 768, 84.9e6, 164e6, 963e6], [24, 1024, 302e6, 407e6, 3.02e9],
    [24, 2048, 1.21e9, 1.42e9, 9.66e9], [32, 4096, 6.44e9, 6.86e9, 45.1e9], [40, 5120, 12.6e9, 13.1e9, 85.6e9],
    [80, 8192, 64.4e9, 65.3e9, 419e9],
  ];
  for (const [n, d, N1, N2, M] of rows) {
    const c = validateConfig({ vocab_size: 102400, hidden_size: d, intermediate_size: Math.round(8 * d / 3), num_hidden_layers: n, num_attention_heads: d / 64 });
    const f = flopsPerToken(c, 4096);
    const close = (a: number, b: number) => Math.abs(a - b) / b < 0.006;
    assert.ok(close(f.M, M), `M ${n}x${d}: ${f.M} vs ${M}`);
    assert.ok(close(f['6N1'] / 6, N1), `N1 ${n}x${d}`);
    assert.ok(close(f['6N2'] / 6, N2), `N2 ${n}x${d}`);
  }
});

test('impossible configs are rejected with the key named', () => {
  const base = { vocab_size: 100, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4 };
  assert.throws(() => validateConfig({ ...base, num_attention_heads: 5 }), /num_attention_heads \(5\) must divide hidden_size \(64\)/);
  assert.throws(() => validateConfig({ ...base, num_key_value_heads: 3 }), /num_key_value_heads \(3\) must divide num_attention_heads \(4\)/);
  const { vocab_size: _v, ...noVocab } = base;
  assert.throws(() => validateConfig(noVocab), /missing key "vocab_size"/);
  assert.throws(() => validateConfig({ ...base, num_hidden_layers: 0 }), /num_hidden_layers/);
  assert.throws(() => validateConfig({ ...base, hidden_act: 'gelu' }), /hidden_act/);
});

test('dsllm info --json prints counts without allocating weights (67B in a small process)', () => {
  const r = spawnSync(process.execPath, ['dist/src/cli/index.js', 'info', '--config', 'deepseek-llm-67b', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.params, 67_425_001_472);
  assert.equal(j.non_embedding_params, 65_747_279_872);
  assert.equal(j.flops_per_token.M, 72 * 95 * 8192 ** 2 + 12 * 95 * 8192 * 4096);
  const bad = spawnSync(process.execPath, ['dist/src/cli/index.js', 'info', '--config', 'no-such-model'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /not a preset/);
  assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/); // no stack trace
});

test('transformers ≥ 5 rope_parameters: rope_theta read from it; other RoPE types refused, not ignored', () => {
  const base = { vocab_size: 8, hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2 };
  assert.equal(validateConfig({ ...base, rope_parameters: { rope_type: 'default', rope_theta: 50000 } }).rope_theta, 50000);
  assert.equal(validateConfig({ ...base, rope_theta: 50000, rope_parameters: { rope_theta: 50000 } }).rope_theta, 50000);
  assert.equal(validateConfig({ ...base, rope_parameters: { rope_type: 'default' } }).rope_theta, 10000);
  assert.throws(() => validateConfig({ ...base, rope_parameters: { rope_type: 'llama3', rope_theta: 5e5, factor: 8 } }, 'c.json'), /c.json: rope_parameters.rope_type "llama3" is not supported/);
  assert.throws(() => validateConfig({ ...base, rope_parameters: { rope_type: 'default', rope_theta: 1e4, partial_rotary_factor: 0.5 } }), /only rope_type "default" and rope_theta/);
  assert.throws(() => validateConfig({ ...base, rope_theta: 10000, rope_parameters: { rope_theta: 50000 } }), /disagree/);
});
