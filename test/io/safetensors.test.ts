import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHeader, readTensorBytes, writeSafetensors } from '../../src/io/safetensors.js';
import { saveModel, loadModel } from '../../src/io/hf-dir.js';
import { selectBackend } from '../../src/backends/select.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';

await selectBackend('native');
const dir = mkdtempSync(join(tmpdir(), 'dsllm-st-'));

/** a file assembled by hand from the format's definition (the independent reference) */
function handMade(header: object, data: Uint8Array): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(json.length));
  const p = join(dir, `hand-${Math.random().toString(36).slice(2)}.safetensors`);
  writeFileSync(p, Buffer.concat([len, json, data]));
  return p;
}

test('reads a hand-assembled file', () => {
  const f = new Float32Array([1.5, -2, 3.25, 4]);
  const p = handMade({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }, new Uint8Array(f.buffer));
  const h = readHeader(p);
  assert.deepEqual(h.entries.get('w')!.shape, [2, 2]);
  assert.equal(h.metadata.format, 'pt');
  const out = new Float32Array(4);
  readTensorBytes(h, 'w', new Uint8Array(out.buffer));
  assert.deepEqual(Array.from(out), [1.5, -2, 3.25, 4]);
});

test('writes files whose bytes follow the format (8-byte aligned data start)', () => {
  const p = join(dir, 'w.safetensors');
  const a = new Float32Array([1, 2, 3]), b = new Uint16Array([0x3f80, 0x4000]);
  writeSafetensors(p, [{ name: 'a', dtype: 'f32', shape: [3], bytes: new Uint8Array(a.buffer) }, { name: 'b', dtype: 'bf16', shape: [2], bytes: new Uint8Array(b.buffer) }]);
  const raw = readFileSync(p);
  const n = Number(raw.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  const j = JSON.parse(raw.subarray(8, 8 + n).toString());
  assert.deepEqual(j.a, { dtype: 'F32', shape: [3], data_offsets: [0, 12] });
  assert.deepEqual(j.b, { dtype: 'BF16', shape: [2], data_offsets: [12, 16] });
  assert.deepEqual(Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset + 8 + n, raw.byteOffset + 8 + n + 12))), [1, 2, 3]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), []); // no temp files left
});

test('hostile or broken headers are clear errors', () => {
  const d = new Uint8Array(16);
  const cases: [object | string, RegExp][] = [
    [{ w: { dtype: 'Q9', shape: [4], data_offsets: [0, 16] } }, /unknown dtype "Q9"/],
    [{ w: { dtype: 'F32', shape: [4], data_offsets: [0, 32] } }, /run past the data section/],
    [{ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, /16 bytes stored, shape \[3\] of F32 needs 12/],
    [{ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, /overlap/],
    [{ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 16] } }, /non-negative integers/],
  ];
  for (const [h, re] of cases) assert.throws(() => readHeader(handMade(h as object, d)), re);
  const big = join(dir, 'big.safetensors');
  const len = Buffer.alloc(8); len.writeBigUInt64LE(1n << 40n);
  writeFileSync(big, len);
  assert.throws(() => readHeader(big), /exceeds/);
  const trunc = join(dir, 'trunc.safetensors');
  const l2 = Buffer.alloc(8); l2.writeBigUInt64LE(1000n);
  writeFileSync(trunc, Buffer.concat([l2, Buffer.from('{"a":')]));
  assert.throws(() => readHeader(trunc), /truncated/);
  const notJson = join(dir, 'nj.safetensors');
  const l3 = Buffer.alloc(8); l3.writeBigUInt64LE(3n);
  writeFileSync(notJson, Buffer.concat([l3, Buffer.from('{{{')]));
  assert.throws(() => readHeader(notJson), /not valid JSON/);
});

test('model directories round-trip, single-file and sharded, f32 exact and bf16 rounded', () => {
  const cfg = validateConfig({ vocab_size: 50, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2 });
  const m = new DeepSeekLM(cfg, { seed: 4 });
  saveModel(m, join(dir, 'one'));
  saveModel(m, join(dir, 'sharded'), { maxShardBytes: 20_000 });
  assert.ok(existsSync(join(dir, 'sharded', 'model.safetensors.index.json')));
  assert.ok(readdirSync(join(dir, 'sharded')).filter((f) => f.startsWith('model-')).length > 2);
  for (const sub of ['one', 'sharded']) {
    const back = loadModel(join(dir, sub));
    for (const [name, p] of m.namedParameters()) assert.deepEqual(back.parameterMap().get(name)!.f32, p.f32, `${sub}: ${name}`);
  }
  saveModel(m, join(dir, 'bf16'), { dtype: 'bf16' });
  const b = loadModel(join(dir, 'bf16'));
  const w = m.layers[0].self_attn.q_proj.f32, wb = b.layers[0].self_attn.q_proj.f32;
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(w[i] - wb[i]) <= Math.abs(w[i]) * 2 ** -8, `bf16 rounding of element ${i}`);
  const cfgJson = JSON.parse(readFileSync(join(dir, 'one', 'config.json'), 'utf8'));
  assert.equal(cfgJson.architectures[0], 'LlamaForCausalLM');
  assert.equal(cfgJson.num_key_value_heads, 2);
});
