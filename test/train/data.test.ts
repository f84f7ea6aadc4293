// Data sources of `dsllm train`, against references that are not our code's output:
// - text tokenized on the fly equals llama.cpp's own tokenization of the same strings (GPT-2 vocab
//   test vectors in ../shared/data/tokenizers), packed with EOS after each document;
// - the bytes behind the validation targets (bits-per-byte) equal the UTF-8 length of those texts;
// - token shards: a run killed with SIGKILL and resumed logs the uninterrupted run's losses bit for
//   bit (the loader cursor travels in the checkpoint); byte shards give bits/byte = nats/ln 2;
// - bad input exits 2 with one line naming the file or both vocabulary sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '../util.js';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { tokenizedStreams, tokenByteCounter, validationSet, type TokenStream } from '../../src/train/data.js';
import { ShardWriter } from '../../src/data/shards.js';
import { byteTokenizer } from '../../src/data/byte-tokenizer.js';
import { selectBackend } from '../../src/backends/select.js';

await selectBackend('native');

const cli = 'dist/src/cli/index.js';
const gguf = sharedPath('data', 'tokenizers', 'gpt-2-vocab.gguf');
const corpus = sharedPath('data', 'corpus', 'en', 'tinyshakespeare.txt');
const root = mkdtempSync(join(tmpdir(), 'dsllm-data-'));
const cfgPath = join(root, 'tiny.json');
writeFileSync(cfgPath, JSON.stringify({
  vocab_size: 257, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, max_position_embeddings: 32,
}));

/** llama.cpp's GPT-2 test vectors: texts and the ids its tokenizer gives them */
function vectors(): { texts: string[]; ids: number[][] } {
  const texts = readFileSync(gguf + '.inp', 'utf8').split('\n__ggml_vocab_test__\n').slice(0, -1);
  const ids = readFileSync(gguf + '.out', 'utf8').split('\n').slice(0, texts.length).map((l) => l.trim() ? l.trim().split(/\s+/).map(Number) : []);
  return { texts, ids };
}

test('text tokenized on the fly: llama.cpp ids of each document, EOS after each, last 10% held out', { skip: gguf ? false : 'needs ../shared/data' }, () => {
  const { texts, ids } = vectors();
  const dir = join(root, 'docs');
  mkdirSync(dir);
  const files = texts.map((t, i) => { const f = join(dir, `doc-${String(i).padStart(3, '0')}.txt`); writeFileSync(f, t); return f; });
  const tok = loadTokenizer(gguf!);
  const { train, val } = tokenizedStreams(files, tok);
  const eos = 50256; // GPT-2's <|endoftext|>
  const expected = ids.flatMap((d) => [...d, eos]);
  assert.deepEqual([...train.tokens, ...val.tokens], expected);
  assert.equal(train.tokens.length, Math.floor(expected.length * 0.9));
  assert.equal(train.vocabSize, 50257);
});

test('bits-per-byte counts the real UTF-8 bytes behind the validation targets', { skip: gguf ? false : 'needs ../shared/data' }, () => {
  const { texts, ids } = vectors();
  const tok = loadTokenizer(gguf!);
  // the reference ids of "Hello world" (15496 995) first, so the one token that is never a target is "Hello" (5 bytes)
  const first = texts.indexOf('Hello world');
  assert.deepEqual(ids[first], [15496, 995]);
  const order = [first, ...texts.keys()].filter((i, k) => k === 0 || i !== first);
  const stream: TokenStream = {
    tokens: Int32Array.from(order.flatMap((i) => [...ids[i], 50256])), tokenBytes: tokenByteCounter(tok), vocabSize: 50257, eos: 50256, describe: 'vectors',
  };
  const n = stream.tokens.length;
  const v = validationSet(stream, 1, 1, n);
  for (const b of v.batches) { b.ids.dispose(); b.targets.dispose(); }
  assert.equal(v.tokens, n - 1);
  // every text's UTF-8 bytes + 1 per EOS, less the first token's 5
  assert.equal(v.bytes, texts.reduce((a, t) => a + Buffer.byteLength(t, 'utf8') + 1, 0) - 5);
});

function writeByteShards(dir: string): void {
  const docs = readFileSync(corpus!, 'utf8').slice(0, 300_000).split('\n\n');
  const shards = [new ShardWriter(join(dir, 'train-000.bin'), byteTokenizer), new ShardWriter(join(dir, 'train-001.bin'), byteTokenizer),
    new ShardWriter(join(dir, 'train-002.bin'), byteTokenizer), new ShardWriter(join(dir, 'val-000.bin'), byteTokenizer)];
  docs.forEach((d, i) => shards[i % 10 === 9 ? 3 : i % 3].add(d));
  for (const s of shards) s.commit();
}

const shardArgs = (data: string, out: string) => ['train', '--config', cfgPath, '--data', data, '--out', out, '--steps', '30', '--batch', '4', '--seq-len', '32',
  '--lr', '3e-3', '--checkpoint-every', '4', '--eval-every', '10', '--eval-batches', '2', '--quiet'];
const records = (out: string) => readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('token shards: kill -9 mid-run and resume; the losses equal the uninterrupted run bit for bit', { skip: corpus ? false : 'needs ../shared/data' }, async () => {
  const shards = join(root, 'shards');
  writeByteShards(shards);
  const ref = join(root, 'shard-ref');
  const r = spawnSync(process.execPath, [cli, ...shardArgs(shards, ref)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const expected = records(ref);
  assert.equal(expected.length, 30);
  // byte shards: one byte per token, so bits/byte is exactly nats/ln 2
  for (const rec of expected.filter((x) => x.val_loss !== undefined)) assert.equal(rec.val_bpb, rec.val_loss / Math.LN2);

  const out = join(root, 'shard-killed');
  const logged = () => existsSync(join(out, 'log.jsonl')) ? readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).length : 0;
  const child = spawn(process.execPath, [cli, ...shardArgs(shards, out)], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => { if (logged() >= 14) { child.kill('SIGKILL'); clearInterval(timer); } }, 5);
    child.on('exit', (code, sig) => { clearInterval(timer); sig === 'SIGKILL' ? resolve() : reject(new Error(`run ended before the kill (code ${code})`)); });
  });
  const fin = spawnSync(process.execPath, [cli, ...shardArgs(shards, out), '--resume'], { encoding: 'utf8' });
  assert.equal(fin.status, 0, fin.stderr);
  const key = (x: Record<string, unknown>) => `${x.step}:${JSON.stringify(x.loss)}:${JSON.stringify(x.val_loss ?? null)}`;
  assert.deepEqual(records(out).map(key), expected.map(key));
  const state = JSON.parse(readFileSync(join(out, 'checkpoints', 'step-00000030', 'trainer_state.json'), 'utf8'));
  // the cursor: 30 steps × 4 rows × 32 tokens read, in seeded shard order
  assert.deepEqual(Object.keys(state.data).sort(), ['epoch', 'offset', 'shard']);
});

test('bad input: bad shard header, empty shard directory, tokenizer/model vocabulary mismatch → one line, exit 2', { skip: gguf && corpus ? false : 'needs ../shared/data' }, () => {
  const run = (...a: string[]) => spawnSync(process.execPath, [cli, 'train', '--config', cfgPath, '--steps', '2', '--quiet', '--out', join(root, 'bad'), ...a], { encoding: 'utf8' });
  const bad = join(root, 'bad-shards');
  mkdirSync(bad);
  writeFileSync(join(bad, 'train-000.bin'), Buffer.alloc(200, 7));
  let r = run('--data', bad);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /train-000\.bin: bad magic .*not a dsllm token shard/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const empty = join(root, 'no-shards');
  mkdirSync(empty);
  r = run('--data', empty);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no-shards: no token shards/);
  r = run('--data', corpus!, '--tokenizer', gguf!);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /has 50257 ids; the model has vocab_size 257/);
  r = run('--data', corpus!, '--tokenizer', join(root, 'nope.json'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /nope\.json: no such file/);
});

test('held-out tail: the shard loader never reads past a shard\'s token limit (it wraps to the next epoch)', { skip: corpus ? false : 'needs ../shared/data' }, async () => {
  const { ShardLoader } = await import('../../src/data/loader.js');
  const { readShard } = await import('../../src/data/shards.js');
  const path = join(root, 'shards', 'train-000.bin');
  const all = readShard(path).tokens;
  const L = 1000, T = 500;
  const loader = new ShardLoader([path], { batchSize: 1, seqLen: T, seed: 1, shuffle: false, tokenLimits: [L] });
  assert.deepEqual([...loader.next().tokens], [...all.subarray(0, T + 1)]);
  // the window [T, 2T]: its last token is past the limit, so it comes from the next epoch's start
  assert.deepEqual([...loader.next().tokens], [...all.subarray(T, L), all[0]]);
  loader.close();
});
