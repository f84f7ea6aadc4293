// `npm run bench -- minhash`: MinHash signatures (5-word shingles, 14 × 8 = 112 64-bit hashes, as
// datatrove's defaults) in MB/s of raw text per core: simplification in TS + the native kernel.
// Cases: en/zh on one core, and en on 2 worker threads (near-linear scaling is the bar).
// Peer: datatrove's signature code path (hash each shingle, numpy (a·x + b) mod (2^61 − 1), min)
// written out in numpy, since datatrove itself cannot be installed here (no PyPI); it uses
// sha1-64 as FineWeb did, and a whitespace tokenizer instead of nltk's. Both sides are timed in CPU
// seconds (process.cpuUsage / time.process_time), which a busy shared machine skews far less than wall time.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_MINHASH, MinhashSigner, nativeMinhashAvailable } from '../src/data/dedup/minhash.js';
import { simplifyText } from '../src/data/dedup/normalize.js';
import { emit, median, note, pythonHas, runPython, spreadOf, type BenchOptions } from './common.js';
import { corpusDocs, cpuReps, sharedData } from './data-common.js';

const PEER = `
import hashlib, json, sys, time, numpy as np
docs = json.load(open(sys.argv[1]))
P = np.uint64((1 << 61) - 1)
g = np.random.RandomState(1)
a = g.randint(1, P, dtype=np.uint64, size=(1, 112)); b = g.randint(0, P, dtype=np.uint64, size=(1, 112))
def sign(t):
    w = t.split()
    sh = np.fromiter((int.from_bytes(hashlib.sha1(' '.join(w[i:i+5]).encode()).digest()[:8], 'little') for i in range(max(len(w) - 4, 1))), dtype=np.uint64).reshape(-1, 1)
    with np.errstate(over='ignore'):
        return np.min((sh * a + b) % P, axis=0)
nbytes = sum(len(d.encode()) for d in docs)
ts = []
for r in range(int(sys.argv[2]) + 1):
    t0 = time.process_time(); [sign(d) for d in docs]; ts.append(time.process_time() - t0)
ts = sorted(ts[1:]); print(json.dumps({"mbps": nbytes / 1e6 / ts[len(ts)//2]}))
`;

function bytesOf(docs: string[]): number { return docs.reduce((a, d) => a + Buffer.byteLength(d), 0); }

async function twoWorkers(docs: string[], reps: number): Promise<{ cpu: number[]; wall: number[] }> {
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.mod).then(({ MinhashSigner, DEFAULT_MINHASH }) => import(workerData.norm).then(({ simplifyText }) => {
      const s = new MinhashSigner(DEFAULT_MINHASH);
      parentPort.on('message', () => { s.signSimplified(workerData.docs.map(simplifyText)); parentPort.postMessage('done'); });
      parentPort.postMessage('ready');
    }));`;
  const mod = new URL('../src/data/dedup/minhash.js', import.meta.url).href, norm = new URL('../src/data/dedup/normalize.js', import.meta.url).href;
  const halves = [docs.filter((_, i) => i % 2 === 0), docs.filter((_, i) => i % 2 === 1)];
  const ws = halves.map((h) => new Worker(src, { eval: true, workerData: { docs: h, mod, norm } }));
  await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  const r = await cpuReps(() => Promise.all(ws.map((w) => new Promise((res) => { w.once('message', res); w.postMessage('go'); }))).then(() => undefined), reps);
  await Promise.all(ws.map((w) => w.terminate()));
  return r;
}

export async function run(opts: BenchOptions): Promise<void> {
  const data = sharedData();
  if (!data) { note('minhash bench: ../shared/data not found (set DSLLM_SHARED)', opts); return; }
  if (!nativeMinhashAvailable()) note('!! native minhash kernel missing: timing the BigInt reference', opts);
  const signer = new MinhashSigner(DEFAULT_MINHASH);
  const reps = opts.quick ? 3 : opts.reps;
  const peerOk = pythonHas('numpy');
  const dir = mkdtempSync(join(tmpdir(), 'dsllm-bench-'));
  for (const lang of ['en', 'zh'] as const) {
    const name = `sign-${lang}`;
    if (opts.cases.length && !opts.cases.includes(name)) continue;
    const docs = corpusDocs(data, lang);
    const mb = bytesOf(docs) / 1e6;
    const { cpu: ts, wall } = await cpuReps(() => { signer.signSimplified(docs.map(simplifyText)); }, reps);
    const ours = mb / median(ts);
    let peer: number | null = null;
    if (peerOk && lang === 'en') {
      writeFileSync(join(dir, 'docs.json'), JSON.stringify(docs));
      const r = runPython(['-c', PEER, join(dir, 'docs.json'), String(Math.min(reps, 3))], {}, dir);
      if (r.ok && r.lines[0]) peer = Number(r.lines[0].mbps);
    }
    emit({ suite: 'minhash', case: name, metric: 'signature throughput per core', unit: 'MB/s', ours, peer: peer === null ? null : 'datatrove-numpy', peer_value: peer, ratio: peer ? ours / peer : null, reps, spread: spreadOf(ts), note: `${mb.toFixed(2)} MB, 1 thread, per CPU-second (wall ${(mb / median(wall)).toFixed(1)} MB/s)${lang === 'zh' ? ', CJK chars as words' : ''}` }, opts);
  }
  if (!opts.cases.length || opts.cases.includes('sign-en-2threads')) {
    // the corpus four times over: a repetition of ~0.1 s is mostly timer and scheduling noise
    const base = corpusDocs(data, 'en'), docs = [...base, ...base, ...base, ...base];
    const mb = bytesOf(docs) / 1e6;
    const one = await cpuReps(() => { signer.signSimplified(docs.map(simplifyText)); }, reps);
    const two = await twoWorkers(docs, reps);
    const oneWall = mb / median(one.wall), twoWall = mb / median(two.wall);
    emit({ suite: 'minhash', case: 'sign-en-2threads', metric: 'signature throughput (wall)', unit: 'MB/s', ours: twoWall, peer: '1 thread', peer_value: oneWall, ratio: twoWall / oneWall, reps, spread: spreadOf(two.wall), note: `2 worker threads on ${mb.toFixed(1)} MB; per CPU-second ${(mb / median(two.cpu)).toFixed(1)} vs ${(mb / median(one.cpu)).toFixed(1)} MB/s` }, opts);
  }
  if (!peerOk) note('minhash bench: no numpy in the system python; peer row skipped', opts);
}
