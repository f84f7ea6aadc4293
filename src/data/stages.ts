// What each task of each stage does. A task reads only completed outputs of earlier stages, writes
// its own outputs atomically, and is safe to run again (it rewrites the same bytes).
//
//   read      (N tasks)  input files t, t+N, … → read/docs-t.jsonl, quarantine-t.jsonl, sigs-t.bin, index-t.json
//   buckets   (B tasks)  bands b ≡ t (mod B) of every signature → dedup/edges-t.bin (verified near links)
//   dedup     (1 task)   exact links + all near links, union-find → dedup/removed-t.json, dedup/stats.json
//   filter    (N tasks)  drop dedup removals, quality filters → filter/docs-t.jsonl, removed-t.jsonl
//   remix     (N tasks)  global plan from filter stats → remix/docs-t.jsonl
//   tokenize  (N tasks)  → shards/train-t-k.bin, shards/val-t-k.bin
//   report    (1 task)   → report.json, report.md, dedup-curve.svg
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AtomicWriter, writeFileAtomic } from './atomic.js';
import { byteTokenizer } from './byte-tokenizer.js';
import { exactDuplicateOf, exactKey } from './dedup/exact.js';
import { bandEdges, bandKey, cluster, isEmptySignature, rateCurve, similarityU32, type Edge } from './dedup/lsh.js';
import { MinhashSigner } from './dedup/minhash.js';
import { simplifyText } from './dedup/normalize.js';
import { DocWriter, readDocs, readJson, writeJson, type StageDoc } from './docs-io.js';
import { bucketTasks, type Pipeline, type StageName } from './pipeline.js';
import { Quarantine } from './quarantine.js';
import { filesForTask, listFiles, readFile } from './readers.js';
import { copiesOf, hash01, planRemix } from './remix.js';
import { writeReport } from './report.js';
import { ShardWriter } from './shards.js';
import type { ShardTokenizer } from './types.js';
import { loadTokenizer as loadBpe } from '../tokenizer/formats/load.js';
import { tokenizerFingerprint } from '../tokenizer/fingerprint.js';

const pad = (t: number) => String(t).padStart(5, '0');
export const stageDir = (p: Pipeline, s: string) => join(p.workDir, s);

export interface GroupSizes { docs: Record<string, number>; bytes: Record<string, number> }
const addTo = (g: GroupSizes, key: string, bytes: number, n = 1) => {
  g.docs[key] = (g.docs[key] ?? 0) + n; g.bytes[key] = (g.bytes[key] ?? 0) + bytes;
};
const groups = (): GroupSizes => ({ docs: {}, bytes: {} });

export interface ReadStats { docs: number; bytes: number; bySource: GroupSizes; quarantine: Record<string, number>; seconds: number }

async function readTask(p: Pipeline, t: number): Promise<void> {
  const t0 = performance.now();
  const c = p.config, dir = stageDir(p, 'read');
  const files = filesForTask(listFiles(c.inputs, p.baseDir), t, c.tasks);
  const quarantine = new Quarantine(join(dir, `quarantine-${pad(t)}.jsonl`));
  const out = new DocWriter(join(dir, `docs-${pad(t)}.jsonl`));
  const signer = c.dedup ? new MinhashSigner(c.dedup) : null;
  const sigOut = signer ? new AtomicWriter(join(dir, `sigs-${pad(t)}.bin`)) : null;
  const index = { ids: [] as string[], ranks: [] as number[], exact: [] as string[] };
  const rankOf = new Map(c.inputs.map((inp, i) => [inp.name, i]));
  const stats: ReadStats = { docs: 0, bytes: 0, bySource: groups(), quarantine: {}, seconds: 0 };
  let batch: string[] = [];
  const flush = () => {
    if (!signer || !sigOut || !batch.length) return;
    const s = signer.signSimplified(batch);
    sigOut.write(new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
    batch = [];
  };
  for (const fe of files) {
    for await (const d of readFile(fe.file, c.inputs[fe.input], { quarantine, baseDir: p.baseDir, maxDocBytes: c.maxDocBytes })) {
      out.write(d);
      const bytes = Buffer.byteLength(d.text);
      stats.docs++; stats.bytes += bytes; addTo(stats.bySource, d.source, bytes);
      if (signer) {
        index.ids.push(d.id); index.ranks.push(rankOf.get(d.source)!); index.exact.push(exactKey(d.text));
        batch.push(simplifyText(d.text));
        if (batch.length >= 512) flush();
      }
    }
  }
  flush();
  out.commit(); quarantine.commit(); sigOut?.commit();
  if (signer) writeJson(join(dir, `index-${pad(t)}.json`), index);
  stats.quarantine = quarantine.counts;
  stats.seconds = (performance.now() - t0) / 1000;
  writeJson(join(dir, `stats-${pad(t)}.json`), stats);
}

interface ReadIndex { ids: string[]; ranks: number[]; exact: string[] }

/** Every document of the read stage in priority order (source rank, id), as [read task, local index]. */
function priorityIndex(p: Pipeline): { idx: ReadIndex[]; refs: Array<[number, number]> } {
  const rd = stageDir(p, 'read');
  const idx = Array.from({ length: p.config.tasks }, (_, t) => readJson<ReadIndex>(join(rd, `index-${pad(t)}.json`)));
  const refs: Array<[number, number]> = [];
  idx.forEach((x, t) => x.ids.forEach((_, i) => refs.push([t, i])));
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  refs.sort((a, b) => idx[a[0]].ranks[a[1]] - idx[b[0]].ranks[b[1]] || cmp(idx[a[0]].ids[a[1]], idx[b[0]].ids[b[1]]) || a[0] - b[0] || a[1] - b[1]);
  return { idx, refs };
}

/**
 * Bucket task t: the bands b ≡ t (mod tasks). Band keys of every document are computed from the
 * signature files one read task at a time; candidates are verified by reading their two signatures
 * back (pread), so memory holds keys (8 bytes per document per band), not signatures.
 */
function bucketsTask(p: Pipeline, t: number): void {
  const t0 = performance.now();
  const c = p.config;
  if (!c.dedup) return;
  const { bands, rows, verifyThreshold } = c.dedup, K = bands * rows, T = bucketTasks(c);
  const mine = Array.from({ length: bands }, (_, b) => b).filter((b) => b % T === t);
  const { idx, refs } = priorityIndex(p);
  const n = refs.length, rd = stageDir(p, 'read');
  const gOf = idx.map((x) => new Int32Array(x.ids.length));
  refs.forEach(([rt, i], g) => { gOf[rt][i] = g; });
  const keys = mine.map(() => new Float64Array(n).fill(NaN));
  const fds = idx.map((_, rt) => openSync(join(rd, `sigs-${pad(rt)}.bin`), 'r'));
  try {
    idx.forEach((x, rt) => {
      const b = readFileSync(join(rd, `sigs-${pad(rt)}.bin`));
      if (b.length !== x.ids.length * K * 8) throw new Error(`${rd}/sigs-${pad(rt)}.bin: ${b.length} bytes, expected ${x.ids.length * K * 8}`);
      const u32 = new Uint32Array(b.buffer, b.byteOffset, b.length / 4);
      for (let i = 0; i < x.ids.length; i++) {
        if (isEmptySignature(u32, i * K * 2)) continue;
        mine.forEach((band, k) => { keys[k][gOf[rt][i]] = bandKey(u32, (i * K + band * rows) * 2, rows, band); });
      }
    });
    const ex = exactDuplicateOf(refs.map(([rt, i]) => idx[rt].exact[i]));
    const cache = new Map<number, Uint32Array>();
    const sig = (g: number): Uint32Array => {
      let s = cache.get(g);
      if (s) return s;
      const buf = Buffer.alloc(K * 8);
      readSync(fds[refs[g][0]], buf, 0, K * 8, refs[g][1] * K * 8);
      s = new Uint32Array(buf.buffer, buf.byteOffset, K * 2);
      if (cache.size > 4096) cache.clear();
      cache.set(g, s);
      return s;
    };
    const verify = (i: number, j: number) => verifyThreshold <= 0 || similarityU32(sig(i), 0, sig(j), 0, K) >= verifyThreshold;
    const pairs: Array<[number, number]> = [];
    for (const k of keys) bandEdges(k, (i) => ex[i] >= 0, verify, pairs);
    const out = Int32Array.from(pairs.flat());
    writeFileAtomic(join(stageDir(p, 'dedup'), `edges-${pad(t)}.bin`), new Uint8Array(out.buffer));
    writeJson(join(stageDir(p, 'dedup'), `buckets-stats-${pad(t)}.json`), { bands: mine, pairs: pairs.length, seconds: (performance.now() - t0) / 1000 });
  } finally { fds.forEach((fd) => closeSync(fd)); }
}

export interface DedupStageStats {
  docs: number; exactRemoved: number; nearRemoved: number; removedBySource: Record<string, number>;
  curve: ReturnType<typeof rateCurve>; seconds: number;
}

/** The cluster task: exact links + every bucket task's near links → union-find → removals and the rate curve. */
function dedupTask(p: Pipeline): void {
  const t0 = performance.now();
  const c = p.config, N = c.tasks;
  if (!c.dedup) return;
  const { idx, refs } = priorityIndex(p);
  const n = refs.length, dir = stageDir(p, 'dedup');
  const ex = exactDuplicateOf(refs.map(([t, i]) => idx[t].exact[i]));
  const edges: Edge[] = [];
  for (let g = 0; g < n; g++) if (ex[g] >= 0) edges.push({ from: g, to: ex[g], kind: 'exact' });
  for (let t = 0; t < bucketTasks(c); t++) {
    const b = readFileSync(join(dir, `edges-${pad(t)}.bin`));
    const e = new Int32Array(b.buffer, b.byteOffset, b.length / 4);
    for (let k = 0; k < e.length; k += 2) edges.push({ from: e[k], to: e[k + 1], kind: 'near' });
  }
  const cl = cluster(n, edges);
  const removed: Array<Array<[number, string, string]>> = Array.from({ length: N }, () => []);
  const removedBySource: Record<string, number> = {};
  refs.forEach(([t, i], g) => {
    if (cl.removedAs[g]) {
      const [st, si] = refs[cl.survivor[g]];
      removed[t].push([i, cl.removedAs[g] === 1 ? 'exact' : 'near', idx[st].ids[si]]);
      const src = c.inputs[idx[t].ranks[i]].name;
      removedBySource[src] = (removedBySource[src] ?? 0) + 1;
    }
  });
  removed.forEach((r, t) => writeJson(join(dir, `removed-${pad(t)}.json`), r.sort((a, b) => a[0] - b[0])));
  const rank = Int32Array.from(refs, ([t, i]) => idx[t].ranks[i]);
  const stats: DedupStageStats = {
    docs: n, exactRemoved: cl.exactRemoved, nearRemoved: cl.nearRemoved, removedBySource,
    curve: rateCurve({ n, K: 0, sigs: new BigUint64Array(0), exact: [], rank }, edges, c.inputs.map((i) => i.name)), seconds: (performance.now() - t0) / 1000,
  };
  writeJson(join(dir, 'stats.json'), stats);
}

export interface FilterStats { docs: number; kept: number; removedByRule: Record<string, number>; languages: Record<string, number>; byDomain: GroupSizes; bySource: GroupSizes; seconds: number }

async function filterTask(p: Pipeline, t: number): Promise<void> {
  const t0 = performance.now();
  const c = p.config, dir = stageDir(p, 'filter');
  const removedDedup = new Map<number, [string, string]>();
  if (c.dedup) for (const [i, kind, surv] of readJson<Array<[number, string, string]>>(join(stageDir(p, 'dedup'), `removed-${pad(t)}.json`))) removedDedup.set(i, [kind, surv]);
  // loaded here only: the language model's tables cost every other task's start-up time
  const { applyFilters, filterConfig } = await import('./filters/index.js');
  const fc = c.filter ? filterConfig(c.filter) : null;
  const out = new DocWriter(join(dir, `docs-${pad(t)}.jsonl`));
  const rem = new AtomicWriter(join(dir, `removed-${pad(t)}.jsonl`));
  const s: FilterStats = { docs: 0, kept: 0, removedByRule: {}, languages: {}, byDomain: groups(), bySource: groups(), seconds: 0 };
  let i = 0;
  for await (const d of readDocs(join(stageDir(p, 'read'), `docs-${pad(t)}.jsonl`))) {
    s.docs++;
    const dd = removedDedup.get(i++);
    if (dd) {
      const rule = `dedup:${dd[0]}`;
      s.removedByRule[rule] = (s.removedByRule[rule] ?? 0) + 1;
      rem.write(JSON.stringify({ id: d.id, source: d.source, rule, survivor: dd[1] }) + '\n');
      continue;
    }
    let doc: StageDoc = d;
    if (fc) {
      const v = applyFilters(d, fc);
      if (v.language) s.languages[v.language] = (s.languages[v.language] ?? 0) + 1;
      if (!v.keep) {
        s.removedByRule[v.rule!] = (s.removedByRule[v.rule!] ?? 0) + 1;
        rem.write(JSON.stringify({ id: d.id, source: d.source, rule: v.rule, language: v.language }) + '\n');
        continue;
      }
      doc = { ...d, text: v.text };
    }
    out.write(doc);
    s.kept++;
    const b = Buffer.byteLength(doc.text);
    addTo(s.byDomain, doc.domain, b); addTo(s.bySource, doc.source, b);
  }
  out.commit(); rem.commit();
  s.seconds = (performance.now() - t0) / 1000;
  writeJson(join(dir, `stats-${pad(t)}.json`), s);
}

export interface RemixStats { before: GroupSizes; after: GroupSizes; factor: Record<string, number>; seconds: number }

/** Group sizes summed over every filter task (the remix plan is global, every task computes the same one). */
export function filterTotals(p: Pipeline): FilterStats[] {
  return Array.from({ length: p.config.tasks }, (_, t) => readJson<FilterStats>(join(stageDir(p, 'filter'), `stats-${pad(t)}.json`)));
}

async function remixTask(p: Pipeline, t: number): Promise<void> {
  const t0 = performance.now();
  const c = p.config;
  if (!c.remix) return;
  const r = c.remix;
  const sizes: Record<string, number> = {};
  for (const fs of filterTotals(p)) {
    const g = r.by === 'domain' ? fs.byDomain : fs.bySource;
    for (const [k, v] of Object.entries(r.unit === 'bytes' ? g.bytes : g.docs)) sizes[k] = (sizes[k] ?? 0) + v;
  }
  const plan = planRemix(sizes, r);
  const out = new DocWriter(join(stageDir(p, 'remix'), `docs-${pad(t)}.jsonl`));
  const s: RemixStats = { before: groups(), after: groups(), factor: plan.factor, seconds: 0 };
  for await (const d of readDocs(join(stageDir(p, 'filter'), `docs-${pad(t)}.jsonl`))) {
    const key = r.by === 'domain' ? d.domain : d.source;
    const b = Buffer.byteLength(d.text);
    addTo(s.before, key, b);
    const n = copiesOf(d.id, plan.factor[key] ?? 0, c.seed);
    for (let k = 0; k < n; k++) out.write(k ? { ...d, copy: k } : d);
    if (n) addTo(s.after, key, b * n, n);
  }
  out.commit();
  s.seconds = (performance.now() - t0) / 1000;
  writeJson(join(stageDir(p, 'remix'), `stats-${pad(t)}.json`), s);
}

export interface TokenizeStats { train: { docs: number; tokens: number; shards: string[] }; val: { docs: number; tokens: number; shards: string[] }; tokenizer: string; seconds: number }

async function tokenizeTask(p: Pipeline, t: number): Promise<void> {
  const t0 = performance.now();
  const c = p.config;
  if (!c.tokenize) return;
  const tk = c.tokenize, tok = await loadTokenizer(p, tk.tokenizer);
  const src = c.remix ? 'remix' : 'filter';
  const dir = join(p.workDir, 'shards');
  const s: TokenizeStats = { train: { docs: 0, tokens: 0, shards: [] }, val: { docs: 0, tokens: 0, shards: [] }, tokenizer: tok.hash, seconds: 0 };
  const writers: Record<'train' | 'val', ShardWriter | null> = { train: null, val: null };
  const close = (split: 'train' | 'val') => {
    const w = writers[split];
    if (!w) return;
    w.commit(); s[split].shards.push(w.path.slice(p.workDir.length + 1)); writers[split] = null;
  };
  for await (const d of readDocs(join(stageDir(p, src), `docs-${pad(t)}.jsonl`))) {
    const split = hash01(c.seed, 'split', d.id) < tk.valFraction ? 'val' : 'train';
    let w = writers[split];
    if (!w) w = writers[split] = new ShardWriter(join(dir, `${split}-${pad(t)}-${pad(s[split].shards.length)}.bin`), tok);
    const before = w.numTokens;
    w.add(d.text);
    s[split].docs++; s[split].tokens += w.numTokens - before;
    if (w.numTokens >= tk.maxTokensPerShard) close(split);
  }
  close('train'); close('val');
  s.seconds = (performance.now() - t0) / 1000;
  writeJson(join(dir, `stats-${pad(t)}.json`), s);
}

/** The shard stage's tokenizer: the built-in byte tokenizer, a tokenizer file, or one a module creates. */
export async function loadTokenizer(p: Pipeline, spec: 'byte' | { path: string } | { module: string; export: string; options: Record<string, unknown> }): Promise<ShardTokenizer & { vocabSize?: number }> {
  if (spec === 'byte') return byteTokenizer;
  if ('path' in spec) return bpeShardTokenizer(spec.path === 'cl100k_base' ? spec.path : resolve(p.baseDir, spec.path));
  const target = spec.module.startsWith('.') || isAbsolute(spec.module) ? pathToFileURL(resolve(p.baseDir, spec.module)).href : spec.module;
  const mod = (await import(target)) as Record<string, unknown>;
  const make = mod[spec.export];
  if (typeof make !== 'function') throw new Error(`tokenize.tokenizer: ${spec.module} has no function export '${spec.export}'`);
  const tok = (await (make as (o: unknown) => unknown)(spec.options)) as ShardTokenizer;
  if (!tok || typeof tok.encode !== 'function' || !Number.isInteger(tok.eosId) || typeof tok.hash !== 'string') {
    throw new Error(`tokenize.tokenizer: ${spec.module}#${spec.export} must return { encode(text): number[], eosId: integer, hash: string }`);
  }
  return tok;
}

/** A tokenizer file as the shard stage wants it: ids of a text, its EOS, its fingerprint. */
function bpeShardTokenizer(path: string): ShardTokenizer & { vocabSize: number } {
  const tok = loadBpe(path);
  const eos = tok.spec.eos;
  if (eos === undefined) throw new Error(`tokenize.tokenizer: ${path} names no EOS token; shards end every document with one`);
  return { encode: (text) => tok.encode(text), eosId: eos, hash: tokenizerFingerprint(tok), vocabSize: tok.vocabSize };
}

/** Runs one task of one stage (no completion check here: see tasks.ts). */
export async function runStageTask(p: Pipeline, stage: StageName, t: number): Promise<void> {
  switch (stage) {
    case 'read': return readTask(p, t);
    case 'buckets': return bucketsTask(p, t);
    case 'dedup': return dedupTask(p);
    case 'filter': return filterTask(p, t);
    case 'remix': return remixTask(p, t);
    case 'tokenize': return tokenizeTask(p, t);
    case 'report': return writeReport(p);
  }
}

export { pad };
