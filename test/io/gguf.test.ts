// The GGUF container and the llama export/import, without running llama.cpp: writer → parser round
// trips cross-checked with node-llama-cpp's own (JavaScript) GGUF parser, bad files refused with the
// file and byte named, ggml's block quantization on hand-worked blocks, the RoPE row permutation, and
// models through export → GgufWeightSource.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backends/select.js';
import { kernels } from '../../src/core/runtime.js';
import { GGML, GgufError, GgufType, parseGguf, readGguf, readGgufTensor } from '../../src/io/gguf.js';
import { kv, writeGguf, type TensorToWrite } from '../../src/io/gguf-write.js';
import {
  bf16BitsToF32, dequantizeQ4_0, dequantizeQ8_0, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, quantizeQ4_0, quantizeQ8_0,
} from '../../src/io/ggml-quants.js';
import { ggufName, hfName, permuteRopeRows } from '../../src/io/gguf-llama.js';
import { exportGguf } from '../../src/io/gguf-export.js';
import { GgufWeightSource, loadGgufModel, toF32 } from '../../src/io/gguf-weights.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';
import { trainBpe } from '../../src/tokenizer/trainer.js';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { Rng, randn } from '../util.js';
import { SKIP as NO_DATA, data } from '../tokenizer/data.js';

await selectBackend('native');
const dir = mkdtempSync(join(tmpdir(), 'dsllm-gguf-'));
let nodeLlama: typeof import('node-llama-cpp') | null = null;
try { nodeLlama = await import('node-llama-cpp'); } catch { /* cross-checks are skipped */ }

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f32a = randn(new Rng(1), 12);
const tensors: TensorToWrite[] = [
  { name: 'w.alpha', ne: [4, 3], type: GGML.F32, data: () => bytesOf(f32a) },
  { name: 'w.bravo', ne: [8], type: GGML.F16, data: () => bytesOf(Uint16Array.from({ length: 8 }, (_, i) => f32ToF16Bits(i / 3))) },
  { name: 'w.gamma', ne: [64, 2], type: GGML.Q8_0, data: () => quantizeQ8_0(randn(new Rng(2), 128)) },
  { name: 'w.delta', ne: [32], type: GGML.Q4_0, data: () => quantizeQ4_0(randn(new Rng(3), 32)) },
  { name: 'w.omega', ne: [2, 2, 2], type: GGML.BF16, data: () => bytesOf(Uint16Array.from({ length: 8 }, (_, i) => f32ToBf16Bits(i - 4))) },
];
const kvs = [
  kv.of('t.u8', GgufType.U8, 200), kv.of('t.i8', GgufType.I8, -5), kv.of('t.u16', GgufType.U16, 60000),
  kv.of('t.i16', GgufType.I16, -30000), kv.u32('t.u32', 4_000_000_000), kv.i32('t.i32', -2_000_000_000),
  kv.f32('t.f32', 1.5), kv.bool('t.bool', true), kv.str('t.str', 'héllo ▁ 世界'), kv.u64('t.u64', 2 ** 40),
  kv.of('t.i64', GgufType.I64, -(2 ** 40)), kv.of('t.f64', GgufType.F64, Math.PI),
  kv.strs('t.strs', ['a', '', 'Ġthe']), kv.i32s('t.i32s', [1, -2, 3]), kv.f32s('t.f32s', [0.25, -1]),
  kv.arr('t.bools', GgufType.BOOL, [true, false]), kv.u32('general.alignment', 64),
];
const small = join(dir, 'small.gguf');
writeGguf(small, kvs, tensors, 64);
const smallBuf = readFileSync(small);

test('writer → parser: every metadata type, tensor infos, alignment and data', () => {
  const f = readGguf(small);
  assert.equal(f.version, 3);
  assert.equal(f.alignment, 64);
  const expect: Record<string, unknown> = {
    't.u8': 200, 't.i8': -5, 't.u16': 60000, 't.i16': -30000, 't.u32': 4_000_000_000, 't.i32': -2_000_000_000,
    't.f32': 1.5, 't.bool': true, 't.str': 'héllo ▁ 世界', 't.u64': 2 ** 40, 't.i64': -(2 ** 40), 't.f64': Math.PI,
    't.strs': ['a', '', 'Ġthe'], 't.i32s': [1, -2, 3], 't.f32s': [0.25, -1], 't.bools': [true, false],
  };
  for (const [k, v] of Object.entries(expect)) assert.deepEqual(f.kv.get(k), v, k);
  assert.equal(f.kvTypes.get('t.i16'), GgufType.I16);
  assert.equal(f.dataOffset % 64, 0);
  assert.deepEqual(f.tensors.map((t) => [t.name, t.ne, t.typeName]), [
    ['w.alpha', [4, 3], 'F32'], ['w.bravo', [8], 'F16'], ['w.gamma', [64, 2], 'Q8_0'], ['w.delta', [32], 'Q4_0'], ['w.omega', [2, 2, 2], 'BF16'],
  ]);
  for (const t of f.tensors) assert.equal(t.offset % 64, 0, `${t.name} aligned`);
  for (const t of tensors) assert.deepEqual(readGgufTensor(f, t.name), t.data(), t.name);
  // the same bytes parsed from memory
  assert.deepEqual(parseGguf(smallBuf, 'mem').tensors.map((t) => t.fileOffset), f.tensors.map((t) => t.fileOffset));
});

test('node-llama-cpp\'s GGUF parser reads our file as we do', { skip: nodeLlama ? false : 'node-llama-cpp not installed' }, async () => {
  const info = await nodeLlama!.readGgufFileInfo(small, { logWarnings: false });
  const m = info.metadata as unknown as Record<string, Record<string, unknown>>;
  assert.equal(m.t.u16, 60000);
  assert.equal(m.t.str, 'héllo ▁ 世界');
  assert.deepEqual(m.t.strs, ['a', '', 'Ġthe']);
  assert.equal(Number(m.t.i64), -(2 ** 40));
  const ours = readGguf(small);
  assert.deepEqual(info.tensorInfo!.map((t) => [t.name, t.dimensions.map(Number), Number(t.ggmlType), Number(t.offset), Number(t.fileOffset)]),
    ours.tensors.map((t) => [t.name, t.ne, t.type, t.offset, t.fileOffset]));
});

test('the shared GGUF vocabularies parse the same with node-llama-cpp\'s parser', { skip: NO_DATA || (nodeLlama ? false : 'node-llama-cpp not installed') }, async () => {
  for (const v of ['deepseek-llm', 'qwen2']) {
    const p = data('tokenizers', `${v}-vocab.gguf`);
    const ours = readGguf(p);
    const info = await nodeLlama!.readGgufFileInfo(p, { logWarnings: false });
    const tk = (info.metadata as unknown as { tokenizer: { ggml: Record<string, unknown> } }).tokenizer.ggml;
    assert.deepEqual(ours.kv.get('tokenizer.ggml.tokens'), tk.tokens, `${v} tokens`);
    assert.deepEqual(ours.kv.get('tokenizer.ggml.merges'), tk.merges, `${v} merges`);
    assert.equal(ours.kv.get('tokenizer.ggml.pre'), tk.pre);
  }
});

/** byte position of fields of a tensor info in the small file */
function infoAt(buf: Buffer, name: string) {
  const at = buf.indexOf(Buffer.from(name)) + name.length;
  const nd = buf.readUInt32LE(at);
  return { nDims: at, ne0: at + 4, type: at + 4 + 8 * nd, offset: at + 8 + 8 * nd };
}
function patched(fn: (b: Buffer) => void): Buffer {
  const b = Buffer.from(smallBuf);
  fn(b);
  return b;
}
const fails = (b: Uint8Array, re: RegExp) => assert.throws(() => parseGguf(b, 'bad.gguf'), (e: unknown) => e instanceof GgufError && re.test(e.message), String(re));

test('bad files: every truncation, magic, version, types, offsets — each names the file and byte', () => {
  const f = parseGguf(smallBuf);
  const last = f.tensors[f.tensors.length - 1];
  for (let cut = 0; cut < last.fileOffset + last.nbytes; cut += cut < f.dataOffset ? 1 : 7) {
    fails(smallBuf.subarray(0, cut), /^bad\.gguf: byte \d+: .*(truncated|file ends)/);
  }
  fails(patched((b) => b.write('GGUX', 0, 'latin1')), /byte 0: bad magic "GGUX"/);
  fails(patched((b) => b.writeUInt32LE(1, 4)), /byte 4: GGUF version 1 is not supported/);
  fails(patched((b) => b.writeUInt32LE(77, infoAt(b, 'w.bravo').type)), /byte \d+: tensor w\.bravo: unknown ggml type 77/);
  fails(patched((b) => b.writeBigUInt64LE(0n, infoAt(b, 'w.gamma').offset)), /tensors w\.alpha and w\.gamma overlap/);
  fails(patched((b) => b.writeBigUInt64LE(64n * 1000n, infoAt(b, 'w.delta').offset)), /tensor w\.delta: data \[64000, 64018\) runs past the data section/);
  fails(patched((b) => b.writeBigUInt64LE(65n, infoAt(b, 'w.bravo').offset)), /tensor w\.bravo: offset 65 is not a multiple of the alignment 64/);
  fails(patched((b) => b.writeUInt32LE(5, infoAt(b, 'w.alpha').nDims)), /tensor w\.alpha: 5 dimensions/);
  fails(patched((b) => b.writeBigUInt64LE(48n, infoAt(b, 'w.gamma').ne0)), /row length ne\[0\]=48 is not a multiple of Q8_0's block of 32/);
  fails(patched((b) => b.writeUInt32LE(48, b.indexOf(Buffer.from('general.alignment')) + 21)), /general\.alignment 48 is not a power of two/);
  fails(patched((b) => b.write('w.alpha', b.indexOf(Buffer.from('w.bravo')), 'latin1')), /tensor "w\.alpha" appears twice/);
  fails(patched((b) => b.writeUInt32LE(99, b.indexOf(Buffer.from('t.u8')) + 4)), /t\.u8: unknown value type 99/);
  // a file that says it holds 2^40 metadata entries
  fails(patched((b) => b.writeBigUInt64LE(2n ** 40n, 16)), /^bad\.gguf: byte \d+: /);
  assert.throws(() => readGguf(join(dir, 'missing.gguf')), /missing\.gguf: cannot open: ENOENT/);
});

test('Q8_0 and Q4_0 blocks as ggml writes them (hand-worked blocks)', () => {
  // Q8_0 with amax 127: d = 1, q = roundf(x), halves away from zero (banker's rounding would differ)
  const x = new Float32Array(32);
  x.set([0.5, -0.5, 1.5, -2.5, 126.5, -127, 3.49]);
  const q8 = quantizeQ8_0(x);
  assert.equal(q8.length, 34);
  assert.equal(q8[0] | (q8[1] << 8), 0x3c00, 'd = 1.0 as f16');
  assert.deepEqual(Array.from(new Int8Array(q8.buffer, 2, 7)), [1, -1, 2, -3, 127, -127, 3]);
  // Q4_0 with the largest magnitude -8: d = max/-8 = 1, q = min(15, trunc(x + 8.5))
  const y = new Float32Array(32);
  y.set([-8, 7, 7.6, -7.5, -7.6, 0.4, 0.5, -0.5]);
  y[16] = 3; y[17] = -3;
  const q4 = quantizeQ4_0(y);
  assert.equal(q4.length, 18);
  assert.equal(q4[0] | (q4[1] << 8), 0x3c00);
  const lo = Array.from(q4.subarray(2, 10), (b) => b & 15), hi = Array.from(q4.subarray(2, 4), (b) => b >> 4);
  assert.deepEqual(lo, [0, 15, 15, 1, 0, 8, 9, 8]);
  assert.deepEqual(hi, [11, 5], 'elements 16 and 17 in the high nibbles of bytes 0 and 1');
  // the signed maximum sets the sign of d: max 8 → d = -1
  const z = new Float32Array(32); z[0] = 8; z[1] = -7;
  const qz = quantizeQ4_0(z);
  assert.equal(qz[0] | (qz[1] << 8), 0xbc00, 'd = -1.0');
  assert.deepEqual(Array.from(dequantizeQ4_0(qz).subarray(0, 3)), [8, -7, -0], '(8 − 8)·(−1) is −0 in C too');
  // all-zero blocks
  assert.ok(quantizeQ8_0(new Float32Array(32)).every((b) => b === 0));
  assert.ok(quantizeQ4_0(new Float32Array(32)).subarray(2).every((b) => b === 0x88));
  assert.throws(() => quantizeQ8_0(new Float32Array(33)), /33 elements is not a multiple of the block size 32/);
});

test('Q8_0/Q4_0 round trips stay within half a step (a full step where Q4_0 clamps), plus the f16 rounding of d', () => {
  const x = randn(new Rng(5), 32 * 64, 0.7);
  const d8 = dequantizeQ8_0(quantizeQ8_0(x)), d4 = dequantizeQ4_0(quantizeQ4_0(x));
  for (let b = 0; b < 64; b++) {
    const blk = x.subarray(b * 32, b * 32 + 32);
    const amax = Math.max(...Array.from(blk, Math.abs));
    for (let j = 0; j < 32; j++) {
      const i = b * 32 + j;
      // d is stored as f16 (relative error ≤ 2^-11), which every |q| ≤ 127 (or 8) multiplies
      assert.ok(Math.abs(d8[i] - x[i]) <= (amax / 127) * (0.5 + 127 * 2 ** -11) + 1e-7, `q8 ${i}`);
      assert.ok(Math.abs(d4[i] - x[i]) <= (amax / 8) * (1 + 8 * 2 ** -11) + 1e-7, `q4 ${i}`);
    }
  }
});

test('the native quantize kernel (used by export) writes the same blocks as the TypeScript ggml reference', () => {
  const x = Float32Array.from(randn(new Rng(8), 32 * 4096), (v, i) => v * (1 + (i % 5)) * (i % 97 === 0 ? 0 : 1));
  for (const [fmt, f, bytes] of [['q8_0', quantizeQ8_0, 34], ['q4_0', quantizeQ4_0, 18]] as const) {
    const out = new Uint8Array(4096 * bytes);
    kernels().quantize(out, x, fmt, x.length);
    assert.deepEqual(out, f(x), fmt);
  }
});

test('f16 and bf16 rounding equals the native kernels (round to nearest even, subnormals, overflow)', () => {
  const xs = Float32Array.from([
    ...randn(new Rng(6), 2000, 3), 65504, 65519, 65520, 1e6, -1e6, 5.96e-8, 2.98e-8, 2.99e-8, 6.1e-5, 1e-10, 0, -0,
    1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -8, 1 + 3 * 2 ** -8, Infinity, -Infinity, 3.4e38,
  ]);
  const h = new Uint16Array(xs.length), b = new Uint16Array(xs.length), back = new Float32Array(xs.length);
  kernels().f32ToF16(h, xs, xs.length);
  kernels().f32ToBf16(b, xs, xs.length);
  kernels().f16ToF32(back, h, xs.length);
  for (let i = 0; i < xs.length; i++) {
    assert.equal(f32ToF16Bits(xs[i]), h[i], `f16 of ${xs[i]}`);
    assert.equal(f32ToBf16Bits(xs[i]), b[i], `bf16 of ${xs[i]}`);
    assert.ok(Object.is(f16BitsToF32(h[i]), back[i]), `f16 → f32 of ${h[i].toString(16)}`);
    assert.equal(bf16BitsToF32(b[i]), Math.fround(bf16BitsToF32(b[i])));
  }
});

test('RoPE row permutation: convert_hf_to_gguf\'s order, undone exactly', () => {
  // heads 2, head dim 4, one byte per row: HF rows 0..7 → llama.cpp [0,2,1,3, 4,6,5,7]
  const rows = Uint8Array.from({ length: 8 }, (_, i) => i);
  assert.deepEqual(Array.from(permuteRopeRows(rows, 2, 4, 1, true)), [0, 2, 1, 3, 4, 6, 5, 7]);
  const wide = Uint8Array.from({ length: 3 * 8 * 5 }, (_, i) => i * 7);
  assert.deepEqual(permuteRopeRows(permuteRopeRows(wide, 3, 8, 5, true), 3, 8, 5, false), wide);
  assert.equal(ggufName('model.layers.11.mlp.down_proj.weight'), 'blk.11.ffn_down.weight');
  assert.equal(hfName('blk.3.attn_k.weight'), 'model.layers.3.self_attn.k_proj.weight');
  assert.equal(ggufName('model.layers.0.self_attn.rotary_emb.inv_freq'), null);
});

const tinyCfg = validateConfig({
  vocab_size: 300, hidden_size: 64, intermediate_size: 80, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-5, rope_theta: 500000, bos_token_id: 1,
});

test('export → GgufWeightSource: names, shapes, config and f32 weights come back exactly; f16/bf16 as the kernels round', () => {
  const model = new DeepSeekLM(tinyCfg, { seed: 3 });
  const path = join(dir, 'tiny-f32.gguf');
  const r = exportGguf(model, path);
  assert.equal(r.tensors, 2 + 2 * 9 + 1);
  const src = new GgufWeightSource(path);
  const { bos_token_id: _b, ...want } = tinyCfg;
  void _b;
  assert.deepEqual({ ...src.config }, { ...want, eos_token_id: 256, architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu' });
  assert.deepEqual(src.names().sort(), [...model.parameterMap().keys()].sort());
  for (const [name, p] of model.namedParameters()) {
    const w = src.get(name);
    assert.equal(w.dtype, 'f32');
    assert.deepEqual(w.shape, [...p.shape], name);
    assert.deepEqual(toF32(w), p.f32, name);
  }
  const f = readGguf(path);
  assert.equal(f.kv.get('llama.rope.freq_base'), 500000);
  assert.equal(f.kv.get('llama.attention.head_count_kv'), 2);
  assert.equal(f.kv.get('tokenizer.ggml.pre'), 'gpt-2');
  for (const type of ['f16', 'bf16'] as const) {
    const p2 = join(dir, `tiny-${type}.gguf`);
    exportGguf(model, p2, { type });
    const m2 = loadGgufModel(p2);
    const q = model.parameterMap().get('model.layers.1.self_attn.q_proj.weight')!;
    const u = new Uint16Array(q.numel), back = new Float32Array(q.numel);
    if (type === 'f16') { kernels().f32ToF16(u, q.f32, q.numel); kernels().f16ToF32(back, u, q.numel); } else { kernels().f32ToBf16(u, q.f32, q.numel); kernels().bf16ToF32(back, u, q.numel); }
    assert.deepEqual(m2.parameterMap().get('model.layers.1.self_attn.q_proj.weight')!.f32, back, type);
    assert.deepEqual(m2.parameterMap().get('model.norm.weight')!.f32, model.parameterMap().get('model.norm.weight')!.f32, 'norms stay f32');
  }
});

test('quantized export: rows not a multiple of 32 fall back to F16; blocks pass through un-permuted rows', () => {
  const model = new DeepSeekLM(tinyCfg, { seed: 4 });
  const path = join(dir, 'tiny-q8.gguf');
  const r = exportGguf(model, path, { type: 'q8_0' });
  assert.deepEqual(r.fallbacks, ['blk.0.ffn_down.weight', 'blk.1.ffn_down.weight'], 'ffn_down rows are 80 long');
  const f = readGguf(path);
  assert.equal(f.byName.get('blk.0.ffn_gate.weight')!.typeName, 'Q8_0');
  assert.equal(f.byName.get('blk.0.ffn_down.weight')!.typeName, 'F16');
  assert.equal(f.byName.get('output_norm.weight')!.typeName, 'F32');
  const src = new GgufWeightSource(path);
  const k = src.get('model.layers.0.self_attn.k_proj.weight');
  assert.equal(k.dtype, 'q8_0');
  const orig = model.parameterMap().get('model.layers.0.self_attn.k_proj.weight')!;
  assert.deepEqual(k.bytes, quantizeQ8_0(orig.f32), 'HF row order, the blocks our quantizer makes');
});

test('tied embeddings: no output.weight written, tie_word_embeddings read back', () => {
  const model = new DeepSeekLM({ ...tinyCfg, tie_word_embeddings: true }, { seed: 5 });
  const path = join(dir, 'tied.gguf');
  exportGguf(model, path);
  assert.equal(readGguf(path).byName.has('output.weight'), false);
  const m2 = loadGgufModel(path);
  assert.equal(m2.config.tie_word_embeddings, true);
  assert.deepEqual(m2.lm_head.f32, model.embed_tokens.f32);
});

test('a trained BPE vocabulary goes into the GGUF and comes back encoding the same', { skip: NO_DATA }, async () => {
  const text = join(dir, 'stories.txt');
  writeFileSync(text, readFileSync(data('corpus', 'en', 'tinystories_sample.txt'), 'utf8').slice(0, 60_000));
  const { tokenizer } = await trainBpe({ vocabSize: 400, inputs: [text], padToMultiple: 64, threads: 1 });
  const model = new DeepSeekLM({ ...tinyCfg, vocab_size: 448 }, { seed: 6 });
  const path = join(dir, 'bpe.gguf');
  exportGguf(model, path, { tokenizer });
  const f = readGguf(path);
  assert.equal(f.kv.get('tokenizer.ggml.pre'), 'deepseek-llm');
  assert.equal((f.kv.get('tokenizer.ggml.tokens') as string[]).length, 448);
  assert.equal((f.kv.get('tokenizer.ggml.token_type') as number[])[447], 5, 'padding rows are UNUSED');
  assert.equal((f.kv.get('tokenizer.ggml.token_type') as number[])[tokenizer.spec.bos!], 3, 'BOS is CONTROL');
  assert.match(f.kv.get('tokenizer.chat_template') as string, /Assistant:/);
  const back = loadTokenizer(path);
  const s = readFileSync(text, 'utf8').slice(0, 3000) + ' 12345 ünïcödé 世界\n\n';
  assert.deepEqual(back.encode(s), tokenizer.encode(s));
  assert.equal(back.spec.bos, tokenizer.spec.bos);
  assert.equal(back.spec.eos, tokenizer.spec.eos);
});

test('unsupported models are refused with what is supported', () => {
  const p = join(dir, 'gpt2.gguf');
  writeGguf(p, [kv.str('general.architecture', 'gpt2')], []);
  assert.throws(() => new GgufWeightSource(p), /architecture "gpt2" is not supported \(supported: llama/);
  const q = join(dir, 'q4k.gguf');
  const model = new DeepSeekLM(tinyCfg, { seed: 3 });
  exportGguf(model, q);
  // relabel one F32 tensor as Q4_K (the same byte count is not needed to fail at get())
  const buf = readFileSync(q);
  const name = Buffer.from('blk.0.attn_q.weight');
  const at = buf.indexOf(name) + name.length;
  buf.writeUInt32LE(12, at + 4 + 16);
  buf.writeBigUInt64LE(256n, at + 4);
  buf.writeBigUInt64LE(1n, at + 12);
  writeFileSync(q, buf);
  assert.throws(() => new GgufWeightSource(q).get('model.layers.0.self_attn.q_proj.weight'), /blk\.0\.attn_q\.weight is Q4_K; supported: F32, F16, BF16, Q8_0, Q4_0/);
  const noLayer = join(dir, 'nolayer.gguf');
  writeGguf(noLayer, [kv.str('general.architecture', 'llama'), kv.u32('llama.embedding_length', 64), kv.u32('llama.attention.head_count', 4),
    kv.u32('llama.feed_forward_length', 80), kv.u32('llama.block_count', 1), kv.u32('llama.context_length', 16),
    kv.f32('llama.attention.layer_norm_rms_epsilon', 1e-6), kv.u32('llama.vocab_size', 300)], []);
  assert.throws(() => new GgufWeightSource(noLayer), /tensor for model\.embed_tokens\.weight is missing/);
});
