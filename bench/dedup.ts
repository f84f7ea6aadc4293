// `npm run bench -- dedup`: exact dedup throughput (MB/s per core), LSH + clustering rate, and the
// quality of near dedup on the labelled set built from ../shared/data (precision and recall at
// Jaccard >= 0.8, plus the detection rate per Jaccard bin, the LSH S-curve, transition band included).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exactKey, exactDuplicateOf } from '../src/data/dedup/exact.js';
import { buildLabelledSet, loadBases, scorePairs } from '../src/data/dedup/labelled.js';
import { cluster, findEdges, type SigTable } from '../src/data/dedup/lsh.js';
import { bandMatchProbability, DEFAULT_MINHASH, MinhashSigner } from '../src/data/dedup/minhash.js';
import { jaccard, shingleSet, simplifyText } from '../src/data/dedup/normalize.js';
import { Rng } from '../src/util/rng.js';
import { emit, median, note, pythonHas, runPython, spreadOf, timeReps, type BenchOptions } from './common.js';
import { corpusDocs, cpuReps, sharedData } from './data-common.js';

const PEER = `
import hashlib, json, sys, time
docs = json.load(open(sys.argv[1])); nbytes = sum(len(d.encode()) for d in docs); ts = []
for r in range(int(sys.argv[2]) + 1):
    t0 = time.process_time(); seen = {}
    for i, d in enumerate(docs): seen.setdefault(hashlib.sha1(' '.join(d.lower().split()).encode()).hexdigest(), i)
    ts.append(time.process_time() - t0)
ts = sorted(ts[1:]); print(json.dumps({"mbps": nbytes / 1e6 / ts[len(ts)//2]}))
`;

const want = (opts: BenchOptions, c: string) => !opts.cases.length || opts.cases.includes(c);

export async function run(opts: BenchOptions): Promise<void> {
  const data = sharedData();
  if (!data) { note('dedup bench: ../shared/data not found (set DSLLM_SHARED)', opts); return; }
  const reps = opts.quick ? 3 : opts.reps;
  const docs = corpusDocs(data, 'en').concat(corpusDocs(data, 'zh'));
  const mb = docs.reduce((a, d) => a + Buffer.byteLength(d), 0) / 1e6;
  if (want(opts, 'exact-en-zh')) {
    const { cpu: ts, wall } = await cpuReps(() => { exactDuplicateOf(docs.map(exactKey)); }, reps);
    let peer: number | null = null;
    if (pythonHas('hashlib')) {
      const dir = mkdtempSync(join(tmpdir(), 'dsllm-bench-'));
      writeFileSync(join(dir, 'docs.json'), JSON.stringify(docs));
      const r = runPython(['-c', PEER, join(dir, 'docs.json'), String(Math.min(reps, 3))], {}, dir);
      if (r.ok && r.lines[0]) peer = Number(r.lines[0].mbps);
    }
    emit({ suite: 'dedup', case: 'exact-en-zh', metric: 'exact dedup throughput per core', unit: 'MB/s', ours: mb / median(ts), peer: peer ? 'python-sha1-dict' : null, peer_value: peer, ratio: peer ? mb / median(ts) / peer : null, reps, spread: spreadOf(ts), note: `${mb.toFixed(2)} MB, ${docs.length} docs, lower case + whitespace + SHA-1 + Map, per CPU-second (wall ${(mb / median(wall)).toFixed(0)} MB/s); peer per CPU-second too` }, opts);
  }
  if (want(opts, 'lsh-cluster')) {
    const s = new MinhashSigner(DEFAULT_MINHASH);
    const table: SigTable = { n: docs.length, K: s.K, sigs: s.sign(docs), exact: docs.map(exactKey), rank: new Int32Array(docs.length) };
    const ts = timeReps(() => { cluster(table.n, findEdges(table, DEFAULT_MINHASH)); }, reps);
    emit({ suite: 'dedup', case: 'lsh-cluster', metric: 'band index + verify + union-find', unit: 'kdoc/s', ours: docs.length / 1e3 / median(ts), peer: null, peer_value: null, ratio: null, reps, spread: spreadOf(ts), note: `${docs.length} docs, 14 bands, one thread` }, opts);
  }
  if (want(opts, 'labelled')) {
    const set = buildLabelledSet(loadBases(data, 400, 150), 7);
    const s = new MinhashSigner(DEFAULT_MINHASH);
    const table: SigTable = { n: set.docs.length, K: s.K, sigs: s.sign(set.docs.map((d) => d.text)), exact: set.docs.map((d) => exactKey(d.text)), rank: new Int32Array(set.docs.length) };
    const r = scorePairs(set, findEdges(table, DEFAULT_MINHASH).map((e) => [e.from, e.to]));
    const info = `${set.docs.length} docs, ${r.positives} positive pairs, ${set.pairs.length - r.positives} planted negatives, ${set.grayDropped} transition-band variants left out`;
    emit({ suite: 'dedup', case: 'labelled-precision', metric: 'precision at Jaccard >= 0.8', unit: 'ratio', ours: r.precision, peer: null, peer_value: null, ratio: null, reps: 1, spread: null, note: `${r.truePositives}/${r.predicted} predicted pairs; ${info}` }, opts);
    emit({ suite: 'dedup', case: 'labelled-recall', metric: 'recall at Jaccard >= 0.8', unit: 'ratio', ours: r.recall, peer: null, peer_value: null, ratio: null, reps: 1, spread: null, note: `${r.truePositives}/${r.positives}` }, opts);
  }
  if (want(opts, 'scurve')) {
    // detection rate vs exact Jaccard over pairs spread across [0.5, 1], transition band included
    const bases = loadBases(data, 300, 0);
    const rng = new Rng(9);
    const bins = new Map<number, { n: number; hit: number }>();
    const s = new MinhashSigner(DEFAULT_MINHASH);
    const texts: string[] = [], js: number[] = [];
    for (const b of bases) {
      const ws = b.text.split(/\s+/), rate = 0.12 * rng.uniform();
      const v = ws.map((w) => (rng.uniform() < rate ? `edit${rng.int(1000)}` : w)).join(' ');
      texts.push(b.text, v);
      js.push(jaccard(shingleSet(simplifyText(b.text), 5), shingleSet(simplifyText(v), 5)));
    }
    const table: SigTable = { n: texts.length, K: s.K, sigs: s.sign(texts), exact: texts.map(() => ''), rank: new Int32Array(texts.length) };
    const linked = new Set(findEdges(table, DEFAULT_MINHASH).map((e) => `${Math.min(e.from, e.to)},${Math.max(e.from, e.to)}`));
    js.forEach((j, i) => {
      const bin = Math.min(9, Math.floor(j * 10));
      const e = bins.get(bin) ?? { n: 0, hit: 0 };
      e.n++; if (linked.has(`${2 * i},${2 * i + 1}`)) e.hit++;
      bins.set(bin, e);
    });
    for (const [bin, e] of [...bins].sort((a, b) => a[0] - b[0])) {
      if (bin < 5) continue;
      emit({ suite: 'dedup', case: `detect-J${(bin / 10).toFixed(1)}-${((bin + 1) / 10).toFixed(1)}`, metric: 'fraction of pairs linked', unit: 'ratio', ours: e.hit / e.n, peer: 'LSH theory (no verify)', peer_value: bandMatchProbability((bin + 0.5) / 10, DEFAULT_MINHASH), ratio: null, reps: 1, spread: null, note: `${e.n} pairs` }, opts);
    }
  }
}
