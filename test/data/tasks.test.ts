// Task bookkeeping: completion markers, stage order, Slurm array specs, pipeline validation, and the
// tokenizer plug-in the shard stage loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arrayChunks, arraySpec } from '../../src/data/executors/slurm.js';
import { parsePipeline, stagesOf } from '../../src/data/pipeline.js';
import { loadTokenizer } from '../../src/data/stages.js';
import { markerPath, missingTasks, stagesUntil } from '../../src/data/tasks.js';
import { sharedDir, tmp } from './helpers.js';
import { ShardWriter, readShard } from '../../src/data/shards.js';
import { loadTokenizer as loadBpe, saveHfJson } from '../../src/tokenizer/formats/load.js';

test('stages, markers and missing tasks', () => {
  const dir = tmp('tasks');
  const p = parsePipeline({ tasks: 3, inputs: [{ name: 'a', paths: ['x'] }], tokenize: {} }, '', dir);
  assert.deepEqual(stagesOf(p).map((s) => `${s.name}:${s.tasks}`), ['read:3', 'buckets:3', 'dedup:1', 'filter:3', 'tokenize:3', 'report:1']);
  assert.deepEqual(stagesUntil(p, 'filter').map((s) => s.name), ['read', 'buckets', 'dedup', 'filter']);
  assert.throws(() => stagesUntil(p, 'remix'), /no 'remix' stage/);
  assert.deepEqual(missingTasks(p, 'read'), [0, 1, 2]);
  mkdirSync(join(dir, 'run', 'completions', 'read'), { recursive: true });
  writeFileSync(markerPath(p, 'read', 1), '');
  assert.deepEqual(missingTasks(p, 'read'), [0, 2]);
});

test('pipeline validation names the field', () => {
  assert.throws(() => parsePipeline({ inputs: [] }, 'p.yaml', '/'), /p\.yaml: inputs: .*>=1/);
  assert.throws(() => parsePipeline({ inputs: [{ name: 'a', paths: ['x'] }, { name: 'a', paths: ['y'] }] }, 'p.yaml', '/'), /source name 'a' appears twice/);
  assert.throws(() => parsePipeline({ inputs: [{ name: 'a', paths: ['x'] }], remix: { targets: { a: -1 } } }, 'p.yaml', '/'), /remix\.targets\.a/);
  assert.throws(() => parsePipeline({ inputs: [{ name: 'a', paths: ['x'] }], executor: { type: 'k8s' } }, 'p.yaml', '/'), /executor/);
});

test('slurm array specs compress task lists', () => {
  assert.equal(arraySpec([0, 1, 2, 3, 5, 7, 8, 9]), '0-3,5,7-9');
  assert.equal(arraySpec([4]), '4');
  // indices must stay below MaxArraySize: tasks 998..1003 with size 1000 → [998, 999] and base 1000 + [0..3]
  assert.deepEqual(arrayChunks([998, 999, 1000, 1001, 1002, 1003], 1000), [{ base: 0, indices: [998, 999] }, { base: 1000, indices: [0, 1, 2, 3] }]);
});

test('tokenizer plug-in: a module exporting createTokenizer', async () => {
  const dir = tmp('tok');
  writeFileSync(join(dir, 'tok.mjs'), 'export function createTokenizer(o) { return { eosId: 0, hash: "words-" + o.n, vocabSize: 1000, encode: (t) => t.split(" ").map((w) => w.length) }; }\n');
  const p = parsePipeline({ inputs: [{ name: 'a', paths: ['x'] }], tokenize: { tokenizer: { module: './tok.mjs', options: { n: 3 } } } }, join(dir, 'p.yaml'), dir);
  const spec = p.config.tokenize ? p.config.tokenize.tokenizer : 'byte';
  const tok = await loadTokenizer(p, spec);
  assert.deepEqual([tok.hash, tok.encode('ab c')], ['words-3', [2, 1]]);
  writeFileSync(join(dir, 'bad.mjs'), 'export const createTokenizer = () => ({ hash: 1 });\n');
  await assert.rejects(loadTokenizer(p, { module: './bad.mjs', export: 'createTokenizer', options: {} }), /must return \{ encode/);
});

test('tokenizer file: shards of real BPE ids, each document closed by the vocabulary\'s EOS', { skip: sharedDir() === null }, async () => {
  const dir = tmp('tokfile');
  const gguf = join(sharedDir()!, 'data', 'tokenizers', 'deepseek-llm-vocab.gguf');
  const p = parsePipeline({ inputs: [{ name: 'a', paths: ['x'] }], tokenize: { tokenizer: { path: gguf } } }, join(dir, 'p.yaml'), dir);
  const tok = await loadTokenizer(p, p.config.tokenize ? p.config.tokenize.tokenizer : 'byte');
  const ref = loadBpe(gguf);
  const text = 'DeepSeek LLM 67B 在中文上表现出色。\n  x = 12345;';
  assert.deepEqual(Array.from(tok.encode(text)), Array.from(ref.encode(text)));
  assert.equal(tok.eosId, ref.spec.eos);
  assert.equal(tok.vocabSize, 102400);
  // the fingerprint names the tokenizer, not the file: the tokenizer.json written from the GGUF agrees
  saveHfJson(ref, join(dir, 'tokenizer.json'));
  assert.equal((await loadTokenizer(p, { path: 'tokenizer.json' })).hash, tok.hash);
  assert.match(tok.hash, /^bpe-[0-9a-f]{32}$/);
  assert.notEqual((await loadTokenizer(p, { path: 'cl100k_base' })).hash, tok.hash);
  // written to a shard: ids then EOS per document, 4 bytes per id (vocabulary > 65536)
  const w = new ShardWriter(join(dir, 's.bin'), tok);
  w.add(text); w.add('second');
  w.commit();
  const { header, tokens } = readShard(join(dir, 's.bin'));
  assert.equal(header.tokenizerHash, tok.hash);
  assert.equal(header.bytesPerToken, 4);
  assert.deepEqual(Array.from(tokens), [...ref.encode(text), ref.spec.eos!, ...ref.encode('second'), ref.spec.eos!]);
  await assert.rejects(loadTokenizer(p, { path: 'missing.json' }), /missing\.json/);
});
