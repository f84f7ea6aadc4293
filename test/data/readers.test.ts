// Readers: every format and compression, paths/dirs/globs, and each kind of bad input counted,
// quarantined with source, file and line, never crashing and never dropped silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteFile } from 'hyparquet-writer';
import { Quarantine } from '../../src/data/quarantine.js';
import { DEFAULT_MAX_DOC_BYTES, expandPaths, readFile, readInputs } from '../../src/data/readers.js';
import type { Doc, InputSpec } from '../../src/data/types.js';
import { tmp } from './helpers.js';

/** A zstd frame made by hand from the format spec (RFC 8878): raw blocks, 4-byte content size, no checksum. */
function zstdRawFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0])];  // magic; descriptor: single segment, 4-byte FCS
  const fcs = Buffer.alloc(4); fcs.writeUInt32LE(data.length); parts.push(fcs);
  for (let off = 0; off < data.length || off === 0; off += 65536) {
    const chunk = data.subarray(off, off + 65536);
    const last = off + 65536 >= data.length ? 1 : 0;
    const h = (chunk.length << 3) | (0 << 1) | last;  // block type 0 = raw
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), chunk);
    if (!data.length) break;
  }
  return Buffer.concat(parts);
}

async function collect(gen: AsyncGenerator<Doc>): Promise<Doc[]> { const out: Doc[] = []; for await (const d of gen) out.push(d); return out; }

test('JSONL with every kind of bad line: counted per reason, quarantined with file and line', async () => {
  const dir = tmp('readers');
  const lines: Array<string | Buffer> = [
    JSON.stringify({ text: 'good one', id: 7 }),             // 1 ok (id field)
    '{"text": "broken',                                       // 2 malformed_json
    JSON.stringify({ body: 'no text field' }),                // 3 missing_text
    JSON.stringify({ text: 42 }),                             // 4 missing_text (not a string)
    JSON.stringify({ text: '   ' }),                          // 5 empty
    Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),  // 6 invalid_utf8
    JSON.stringify({ text: 'x'.repeat(3000) }),               // 7 giant (limit 1000 below)
    '',                                                       // 8 empty line
    '[1, 2]',                                                 // 9 malformed_json (not an object)
    JSON.stringify({ text: 'crlf line' }) + '\r',             // 10 ok, \r stripped
  ];
  writeFileSync(join(dir, 'a.jsonl'), Buffer.concat(lines.map((l) => Buffer.concat([Buffer.isBuffer(l) ? l : Buffer.from(l), Buffer.from('\n')]))));
  const q = new Quarantine(join(dir, 'q.jsonl'));
  const input: InputSpec = { name: 'dumpA', domain: 'web', paths: ['a.jsonl'], idField: 'id' };
  const docs = await collect(readFile(join(dir, 'a.jsonl'), input, { quarantine: q, baseDir: dir, maxDocBytes: 1000 }));
  q.commit();
  assert.deepEqual(docs.map((d) => [d.id, d.text, d.source, d.domain]), [['dumpA/7', 'good one', 'dumpA', 'web'], ['dumpA/a.jsonl#10', 'crlf line', 'dumpA', 'web']]);
  assert.deepEqual(q.counts, { malformed_json: 2, missing_text: 2, empty: 2, invalid_utf8: 1, giant: 1 });
  const qs = readFileSync(join(dir, 'q.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(qs.map((e) => e.line), [2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(qs.every((e) => e.source === 'dumpA' && e.file === 'a.jsonl'));
  assert.equal(DEFAULT_MAX_DOC_BYTES, 10 * 1024 * 1024);
});

test('gzip, zstd, parquet, text files (whole, per line, separated), directories and globs', async () => {
  const dir = tmp('formats');
  mkdirSync(join(dir, 'web', 'sub'), { recursive: true });
  const jl = (xs: string[]) => Buffer.from(xs.map((t) => JSON.stringify({ content: t })).join('\n') + '\n');
  writeFileSync(join(dir, 'web', 'a.jsonl.gz'), gzipSync(jl(['g1', 'g2'])));
  writeFileSync(join(dir, 'web', 'sub', 'b.jsonl.zst'), zstdRawFrame(jl(['z1', 'z2', 'z3'])));
  writeFileSync(join(dir, 'web', 'big.jsonl.zst'), zstdRawFrame(jl(Array.from({ length: 3000 }, (_, i) => `doc number ${i} `.repeat(5)))));
  writeFileSync(join(dir, 'broken.jsonl.gz'), Buffer.from('this is not gzip at all'));
  writeFileSync(join(dir, 'book.txt'), 'A whole book.\nTwo lines.');
  writeFileSync(join(dir, 'stories.txt'), 'story one\nline two\n<|endoftext|>\nstory two\n<|endoftext|>\n');
  writeFileSync(join(dir, 'poems.txt'), 'poem a\npoem b\n');
  parquetWriteFile({ filename: join(dir, 'p.parquet'), columnData: [{ name: 'text', data: ['pq1', 'pq2', null] }, { name: 'uid', data: ['u1', 'u2', 'u3'] }] });
  assert.deepEqual(expandPaths(['web/**/*.zst'], dir).map((f) => f.slice(dir.length + 1)), ['web/big.jsonl.zst', 'web/sub/b.jsonl.zst']);
  assert.deepEqual(expandPaths(['web'], dir).length, 3);
  assert.throws(() => expandPaths(['nothing/*.jsonl'], dir), /matches no file/);
  assert.throws(() => expandPaths(['missing.jsonl'], dir), /not found/);
  const inputs: InputSpec[] = [
    { name: 'web', paths: ['web', 'broken.jsonl.gz'], textField: 'content' },
    { name: 'book', paths: ['book.txt'] },
    { name: 'stories', paths: ['stories.txt'], textSplit: '<|endoftext|>' },
    { name: 'poems', paths: ['poems.txt'], textSplit: 'line' },
    { name: 'pq', paths: ['*.parquet'], idField: 'uid' },
  ];
  const q = new Quarantine(null);
  const docs = await collect(readInputs(inputs, { quarantine: q, baseDir: dir }));
  const by = (s: string) => docs.filter((d) => d.source === s).map((d) => d.text);
  assert.deepEqual(by('web').slice(0, 2), ['g1', 'g2']);
  assert.equal(by('web').length, 2 + 3000 + 3);
  assert.deepEqual(by('web').slice(-3), ['z1', 'z2', 'z3']);
  assert.deepEqual(by('book'), ['A whole book.\nTwo lines.']);
  assert.deepEqual(by('stories'), ['story one\nline two', 'story two']);
  assert.deepEqual(by('poems'), ['poem a', 'poem b']);
  assert.deepEqual(by('pq'), ['pq1', 'pq2']);
  assert.deepEqual(docs.filter((d) => d.source === 'pq').map((d) => d.id), ['pq/u1', 'pq/u2']);
  assert.deepEqual(q.counts, { unreadable_file: 1, missing_text: 1 });  // broken gzip; the null parquet row
  assert.equal(new Set(docs.map((d) => d.id)).size, docs.length, 'ids are unique');
});

test('giant lines are skipped without holding them in memory, then reading goes on', async () => {
  const dir = tmp('giant');
  writeFileSync(join(dir, 'g.jsonl'), JSON.stringify({ text: 'y'.repeat(DEFAULT_MAX_DOC_BYTES + 10) }) + '\n' + JSON.stringify({ text: 'after' }) + '\n');
  const q = new Quarantine(null);
  const docs = await collect(readFile(join(dir, 'g.jsonl'), { name: 's', paths: [] }, { quarantine: q, baseDir: dir }));
  assert.deepEqual(docs.map((d) => d.text), ['after']);
  assert.deepEqual(q.counts, { giant: 1 });
});
