// Token shards and the loader: the header read back byte by byte at the documented offsets, bad
// files refused, batches equal to windows of the concatenated stream, and a resumed cursor that
// continues exactly where an uninterrupted loader would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { byteTokenizer } from '../../src/data/byte-tokenizer.js';
import { ShardLoader, type LoaderCursor } from '../../src/data/loader.js';
import { readHeader, readShard, ShardWriter } from '../../src/data/shards.js';
import { tmp } from './helpers.js';

const DOCS = ['hello', 'wörld', '', 'a longer document with more bytes in it'];

test('shard layout matches the documented format', () => {
  const dir = tmp('shard');
  const w = new ShardWriter(join(dir, 's.bin'), byteTokenizer);
  DOCS.forEach((d) => w.add(d));
  w.commit();
  const b = readFileSync(join(dir, 's.bin'));
  const utf8 = DOCS.map((d) => [...Buffer.from(d)]);
  const nTok = utf8.reduce((a, x) => a + x.length + 1, 0);  // + EOS per document
  assert.equal(b.toString('ascii', 0, 8), 'DSLLMTOK');
  assert.equal(b.readUInt32LE(8), 1);
  assert.equal(b.readUInt32LE(12), 2, 'vocab 257 fits in uint16');
  assert.equal(Number(b.readBigUInt64LE(16)), nTok);
  assert.equal(Number(b.readBigUInt64LE(24)), 4);
  assert.equal(b.readUInt32LE(32), 256);
  assert.equal(b.toString('ascii', 40, 47), 'byte-v1');
  const tokens = Array.from({ length: nTok }, (_, i) => b.readUInt16LE(128 + 2 * i));
  assert.deepEqual(tokens, utf8.flatMap((x) => [...x, 256]));
  const dOff = 128 + nTok * 2 + ((8 - ((128 + nTok * 2) % 8)) % 8);
  const offs = Array.from({ length: 5 }, (_, i) => Number(b.readBigUInt64LE(dOff + 8 * i)));
  let acc = 0;
  assert.deepEqual(offs, [0, ...utf8.map((x) => (acc += x.length + 1))]);
  assert.equal(b.length, dOff + 5 * 8);
  const r = readShard(join(dir, 's.bin'));
  assert.deepEqual(Array.from(r.tokens), tokens);
  assert.equal(byteTokenizer.decode(r.tokens.subarray(Number(r.docOffsets[1]), Number(r.docOffsets[2]))), 'wörld');
});

test('bad shards are refused with a message naming the file and the problem', () => {
  const dir = tmp('badshard');
  const w = new ShardWriter(join(dir, 'ok.bin'), byteTokenizer); w.add('abc'); w.commit();
  const good = readFileSync(join(dir, 'ok.bin'));
  writeFileSync(join(dir, 'trunc.bin'), good.subarray(0, good.length - 3));
  assert.throws(() => readHeader(join(dir, 'trunc.bin')), /trunc\.bin: file is \d+ bytes, header says \d+/);
  const magic = Buffer.from(good); magic.write('XXXXXXXX', 0, 'ascii'); writeFileSync(join(dir, 'magic.bin'), magic);
  assert.throws(() => readHeader(join(dir, 'magic.bin')), /bad magic/);
  const ver = Buffer.from(good); ver.writeUInt32LE(9, 8); writeFileSync(join(dir, 'ver.bin'), ver);
  assert.throws(() => readHeader(join(dir, 'ver.bin')), /format version 9/);
  assert.throws(() => new ShardLoader([join(dir, 'ok.bin')], { batchSize: 1, seqLen: 2, seed: 0, tokenizerHash: 'bbpe-32k' }), /written with tokenizer 'byte-v1', expected 'bbpe-32k'/);
  const big = new ShardWriter(join(dir, 'x.bin'), byteTokenizer);
  big.addTokens([1, 2]);
  assert.throws(() => big.addTokens([3, 70000]), /does not fit in 16-bit/);
  // the refused document left nothing behind: the shard holds the first one alone
  big.addTokens([4]);
  big.commit();
  assert.deepEqual(Array.from(readShard(join(dir, 'x.bin')).tokens), [1, 2, byteTokenizer.eosId, 4, byteTokenizer.eosId]);
});

function makeShards(dir: string, n: number): string[] {
  const paths: string[] = [];
  for (let s = 0; s < n; s++) {
    const w = new ShardWriter(join(dir, `train-${s}.bin`), byteTokenizer);
    for (let d = 0; d < 5 + s; d++) w.add(`shard ${s} doc ${d} ${'xyz'.repeat(d)}`);
    w.commit();
    paths.push(join(dir, `train-${s}.bin`));
  }
  return paths;
}

test('loader: batches are consecutive windows of the shard stream in the epoch order', () => {
  const dir = tmp('loader');
  const paths = makeShards(dir, 3);
  const B = 2, T = 16;
  const l = new ShardLoader(paths, { batchSize: B, seqLen: T, seed: 1, shuffle: false });
  const stream = paths.flatMap((p) => Array.from(readShard(p).tokens));
  const total = stream.length;
  const at = (i: number) => stream[i % total];  // epoch 2 starts over (no shuffle: same order)
  for (let step = 0; step < Math.ceil(total / (B * T)) + 3; step++) {
    const { tokens } = l.next();
    for (let b = 0; b < B; b++) {
      const start = step * B * T + b * T;
      assert.deepEqual(Array.from(tokens.subarray(b * (T + 1), (b + 1) * (T + 1))), Array.from({ length: T + 1 }, (_, i) => at(start + i)), `step ${step} row ${b}`);
    }
  }
  assert.ok(l.cursor.epoch >= 1, 'ran into the second epoch');
  l.close();
});

test('loader: a cursor saved as JSON resumes exactly; ranks split each step', () => {
  const dir = tmp('resume');
  const paths = makeShards(dir, 4);
  const opts = { batchSize: 3, seqLen: 8, seed: 7, tokenizerHash: 'byte-v1' };
  const full = new ShardLoader(paths, opts);
  const ref: number[][] = [];
  for (let i = 0; i < 40; i++) ref.push(Array.from(full.next().tokens));
  const a = new ShardLoader(paths, opts);
  for (let i = 0; i < 17; i++) a.next();
  const saved: LoaderCursor = JSON.parse(JSON.stringify(a.cursor));
  a.close();
  const b = new ShardLoader(paths, { ...opts, cursor: saved });
  for (let i = 17; i < 40; i++) assert.deepEqual(Array.from(b.next().tokens), ref[i], `batch ${i} after resume`);
  // two ranks: rank 0 then rank 1 together cover what one loader with batch 2·B would read
  const one = new ShardLoader(paths, { ...opts, batchSize: 6 });
  const r0 = new ShardLoader(paths, { ...opts, rank: 0, worldSize: 2 }), r1 = new ShardLoader(paths, { ...opts, rank: 1, worldSize: 2 });
  for (let i = 0; i < 10; i++) assert.deepEqual([...r0.next().tokens, ...r1.next().tokens], Array.from(one.next().tokens));
  // shard order changes with the epoch (seeded shuffle) but is the same for the same seed
  assert.notDeepEqual(ref.slice(0, 5), new ShardLoader(paths, { ...opts, seed: 8 }).next().tokens);
});
