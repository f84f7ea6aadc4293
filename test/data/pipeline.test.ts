// The whole pipeline: an uninterrupted in-process run is the reference; a local run killed mid-way
// and relaunched must produce byte-identical outputs, with every document accounted for exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readShard } from '../../src/data/shards.js';
import { dedupDocs } from '../../src/data/dedup/index.js';
import type { Doc } from '../../src/data/types.js';
import { loadPipeline, stagesOf } from '../../src/data/pipeline.js';
import { missingTasks } from '../../src/data/tasks.js';
import { dataFiles, pipelineYaml, referenceRun, writeCollection } from './pipeline-fixture.js';
import { repoRoot, sharedDir, tmp } from './helpers.js';

const shared = sharedDir();
const skip = shared ? false : 'shared/data not found beside the repository (set DSLLM_SHARED)';

const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>);

// one fixture and one uninterrupted reference run, shared by both tests
let fixture: Promise<{ root: string; work: string }> | null = null;
const reference = () => (fixture ??= (async () => {
  const root = tmp('pipe');
  writeCollection(root, shared!);
  return { root, work: await referenceRun(root) };
})());

test('pipeline: every document accounted for once, report written', { skip }, async () => {
  const { work } = await reference();
  const readIds = [0, 1].flatMap((t) => lines(join(work, 'read', `docs-0000${t}.jsonl`)).map((d) => d.id as string));
  const kept = [0, 1].flatMap((t) => lines(join(work, 'filter', `docs-0000${t}.jsonl`)).map((d) => d.id as string));
  const removed = [0, 1].flatMap((t) => lines(join(work, 'filter', `removed-0000${t}.jsonl`)));
  assert.equal(readIds.length, 3 * 60 + 45);
  assert.equal(new Set(readIds).size, readIds.length);
  assert.deepEqual([...kept, ...removed.map((r) => r.id as string)].sort(), [...readIds].sort());
  // the 5 repeated poems are exact copies; every dedup removal names a survivor that was kept
  const keptSet = new Set(kept);
  // the task-split dedup (signatures per read task, bands per bucket task, one cluster task) removes
  // exactly what the one-call in-memory dedup removes, with the same survivors
  const readDocs = [0, 1].flatMap((t) => lines(join(work, 'read', `docs-0000${t}.jsonl`))) as unknown as Doc[];
  const mem = dedupDocs(readDocs, ['cc0', 'cc1', 'cc2', 'poems']);
  const memRemoved = readDocs.map((d, i) => (mem.keep[i] ? '' : `${d.id}>${mem.survivorId[i]}`)).filter(Boolean).sort();
  const taskRemoved = removed.filter((r) => String(r.rule).startsWith('dedup:')).map((r) => `${r.id}>${r.survivor}`).sort();
  assert.deepEqual(taskRemoved, memRemoved);
  assert.ok(memRemoved.length > 20);
  assert.ok(removed.filter((r) => r.rule === 'dedup:exact' && (r.id as string).startsWith('poems/')).length >= 5);
  for (const r of removed) if (String(r.rule).startsWith('dedup:')) assert.ok(keptSet.has(r.survivor as string) || removed.some((x) => x.id === r.survivor && !String(x.rule).startsWith('dedup:')), `${r.id} → ${r.survivor}`);
  const q = lines(join(work, 'read', 'quarantine-00000.jsonl')).concat(lines(join(work, 'read', 'quarantine-00001.jsonl')));
  assert.deepEqual(q.map((e) => [e.reason, e.source, e.line]).sort(), [['malformed_json', 'cc2', 61], ['missing_text', 'cc2', 62]]);
  const report = JSON.parse(readFileSync(join(work, 'report.json'), 'utf8'));
  const curve = report.dedup.curve as Array<{ rate: number }>;
  assert.equal(curve.length, 4);
  assert.ok(curve[2].rate > curve[0].rate, 'dedup rate rises as dumps are added');
  const md = readFileSync(join(work, 'report.md'), 'utf8');
  for (const s of ['## Dedup', '## Filter', '## Remix', '## Tokenize', 'dedup:exact', 'malformed_json 1']) assert.ok(md.includes(s), `report has ${s}`);
  assert.ok(existsSync(join(work, 'dedup-curve.svg')));
  // shards hold exactly the remixed documents
  const remixed = [0, 1].flatMap((t) => lines(join(work, 'remix', `docs-0000${t}.jsonl`)));
  const shardDocs = readdirSync(join(work, 'shards')).filter((f) => f.endsWith('.bin')).reduce((a, f) => a + readShard(join(work, 'shards', f)).header.numDocs, 0);
  assert.equal(shardDocs, remixed.length);
  assert.equal(report.tokenize.trainDocs + report.tokenize.valDocs, remixed.length);
});

test('local executor: kill mid-way, relaunch, identical output', { skip }, async () => {
  const { root, work } = await reference();
  const ref = dataFiles(work);
  const dir = join(root, 'killed');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'p.yaml'), pipelineYaml(join(root, 'in')));
  const cli = join(repoRoot(), 'dist', 'src', 'cli', 'index.js');
  const child = spawn(process.execPath, [cli, 'data', 'run', join(dir, 'p.yaml'), '--workers', '2'], {
    detached: true, stdio: 'ignore', env: { ...process.env, DSLLM_DATA_TASK_DELAY_MS: '300' },
  });
  const p = loadPipeline(join(dir, 'p.yaml'));
  const t0 = Date.now();
  while (missingTasks(p, 'read').length > 0 || missingTasks(p, 'filter').length === 2) {
    if (Date.now() - t0 > 60_000) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(-child.pid!, 'SIGKILL');  // the executor and its workers, mid-way
  await new Promise((r) => child.on('exit', r));
  const done = stagesOf(p).map((s) => s.tasks - missingTasks(p, s.name).length);
  assert.ok(done.reduce((a, b) => a + b, 0) < stagesOf(p).reduce((a, s) => a + s.tasks, 0), `killed before the end (done per stage: ${done})`);
  const r = spawnSync(process.execPath, [cli, 'data', 'run', join(dir, 'p.yaml'), '--workers', '2'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /already complete, skipped/);
  const got = dataFiles(p.workDir);
  assert.deepEqual([...got.keys()].sort(), [...ref.keys()].sort());
  for (const [k, v] of ref) assert.ok(v.equals(got.get(k)!), `${k} differs from the uninterrupted run`);
  // a third launch has nothing to do
  const again = spawnSync(process.execPath, [cli, 'data', 'run', join(dir, 'p.yaml')], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /tasks run: read 0, buckets 0, dedup 0, filter 0, remix 0, tokenize 0, report 0/);
});
