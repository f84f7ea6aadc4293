// LSH over MinHash signatures with one global index across all sources, union-find clustering and a
// deterministic survivor rule.
//
// Documents are indexed in priority order: by source, in the order the pipeline lists its inputs
// (list the oldest dump first to keep the oldest copy), then by document id. For each band, members
// of a bucket are visited in that order and each is linked to the first earlier member whose
// signatures agree on at least `verifyThreshold` of their values. Every cluster keeps its first
// member (the lowest index) and removes the rest, whatever the number of tasks or the file order.
//
// Because a link always points to an earlier document, the links among the first k sources are
// exactly those a run over only those k sources would make: one global run yields the dedup rate for
// 1, 2, …, S sources deduplicated together (the shape of the paper's Table 1).
import { exactDuplicateOf } from './exact.js';
import type { MinhashConfig } from './minhash.js';

export interface SigTable {
  /** number of documents, in priority order */
  n: number;
  K: number;
  /** n·K signature values; a document without words has every value 2^64 − 1 */
  sigs: BigUint64Array;
  /** exact-dedup keys ('' = none) */
  exact: readonly string[];
  /** source rank of each document (non-decreasing) */
  rank: Int32Array;
}

export interface Edge { from: number; to: number; kind: 'exact' | 'near' }

const EMPTY = 0xffffffff;

/** true when the signature at u32[base…] is the empty-document marker (every value 2^64 − 1) */
export function isEmptySignature(u32: Uint32Array, base: number): boolean {
  return u32[base] === EMPTY && u32[base + 1] === EMPTY;
}

/**
 * A 52-bit key for one band: the 2·rows 32-bit words at u32[base…] mixed with two multiplicative
 * hashes. Equal bands give equal keys; a collision between different bands only costs a verify.
 */
export function bandKey(u32: Uint32Array, base: number, rows: number, band: number): number {
  let h1 = 0x811c9dc5 ^ band, h2 = 0x9747b28c ^ Math.imul(band, 0x85ebca6b);
  for (let w = 0; w < rows * 2; w++) {
    const v = u32[base + w];
    h1 = Math.imul(h1 ^ v, 0x01000193); h1 ^= h1 >>> 15;
    h2 = Math.imul(h2 ^ v, 0x5bd1e995); h2 ^= h2 >>> 13;
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b); h2 = Math.imul(h2 ^ (h2 >>> 16), 0xc2b2ae35);
  return (h1 >>> 0) * 1048576 + ((h2 >>> 0) >>> 12);
}

/** Band keys of every document of a table (NaN for documents without a signature). */
function bandKeys(t: SigTable, band: number, rows: number): Float64Array {
  const u32 = new Uint32Array(t.sigs.buffer, t.sigs.byteOffset, t.sigs.length * 2);
  const keys = new Float64Array(t.n);
  for (let i = 0; i < t.n; i++) keys[i] = isEmptySignature(u32, i * t.K * 2) ? NaN : bandKey(u32, (i * t.K + band * rows) * 2, rows, band);
  return keys;
}

/**
 * Near links of one band. Documents with equal keys form a bucket; its members, in index (priority)
 * order, are each linked to the first earlier member that `verify` accepts (at most `maxCompare` tried).
 * `skip(i)` leaves a document out (no signature, or already an exact copy).
 */
export function bandEdges(keys: Float64Array, skip: (i: number) => boolean, verify: (i: number, j: number) => boolean,
  out: Array<[number, number]>, maxCompare = 32): void {
  const order: number[] = [];
  for (let i = 0; i < keys.length; i++) if (!Number.isNaN(keys[i]) && !skip(i)) order.push(i);
  order.sort((x, y) => keys[x] - keys[y] || x - y);
  for (let g = 0; g < order.length;) {
    let e = g + 1;
    while (e < order.length && keys[order[e]] === keys[order[g]]) e++;
    for (let m = g + 1; m < e; m++) {
      const i = order[m];
      for (let c = g; c < m && c < g + maxCompare; c++) if (verify(i, order[c])) { out.push([i, order[c]]); break; }
    }
    g = e;
  }
}

/** Fraction of equal values of two signatures given as u32 views (2 words per value). */
export function similarityU32(a: Uint32Array, ai: number, b: Uint32Array, bj: number, K: number): number {
  let eq = 0;
  for (let k = 0; k < K * 2; k += 2) if (a[ai + k] === b[bj + k] && a[ai + k + 1] === b[bj + k + 1]) eq++;
  return eq / K;
}

/** Fraction of equal signature values of documents i and j. */
export function similarity(t: SigTable, i: number, j: number): number {
  const u32 = new Uint32Array(t.sigs.buffer, t.sigs.byteOffset, t.sigs.length * 2);
  return similarityU32(u32, i * t.K * 2, u32, j * t.K * 2, t.K);
}

/** Exact links, then near links band by band, all in memory. */
export function findEdges(t: SigTable, cfg: Pick<MinhashConfig, 'bands' | 'rows' | 'verifyThreshold'>, maxCompare = 32): Edge[] {
  if (cfg.bands * cfg.rows !== t.K) throw new Error(`lsh: bands ${cfg.bands} × rows ${cfg.rows} != signature length ${t.K}`);
  const edges: Edge[] = [];
  const ex = exactDuplicateOf(t.exact);
  for (let i = 0; i < t.n; i++) if (ex[i] >= 0) edges.push({ from: i, to: ex[i], kind: 'exact' });
  const seen = new Set<string>();
  const verify = (i: number, j: number) => cfg.verifyThreshold <= 0 || similarity(t, i, j) >= cfg.verifyThreshold;
  for (let band = 0; band < cfg.bands; band++) {
    const pairs: Array<[number, number]> = [];
    bandEdges(bandKeys(t, band, cfg.rows), (i) => ex[i] >= 0, verify, pairs, maxCompare);
    for (const [i, j] of pairs) {
      const key = `${i},${j}`;
      if (!seen.has(key)) { seen.add(key); edges.push({ from: i, to: j, kind: 'near' }); }
    }
  }
  return edges;
}

/** Union-find whose root is always the smallest index (the survivor). */
export class MinRootUnionFind {
  readonly parent: Int32Array;
  constructor(n: number) { this.parent = new Int32Array(n); for (let i = 0; i < n; i++) this.parent[i] = i; }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) { p[x] = p[p[x]]; x = p[x]; }
    return x;
  }
  /** true when a and b were in different clusters */
  union(a: number, b: number): boolean {
    const ra = this.find(a), rb = this.find(b);
    if (ra === rb) return false;
    if (ra < rb) this.parent[rb] = ra; else this.parent[ra] = rb;
    return true;
  }
}

export interface ClusterResult {
  /** survivor index of each document (itself when kept) */
  survivor: Int32Array;
  /** 0 kept, 1 removed as an exact copy, 2 removed as a near duplicate */
  removedAs: Uint8Array;
  exactRemoved: number;
  nearRemoved: number;
}

export function cluster(n: number, edges: readonly Edge[]): ClusterResult {
  const uf = new MinRootUnionFind(n);
  const exactOnly = new Uint8Array(n);
  for (const e of edges) { uf.union(e.from, e.to); if (e.kind === 'exact') exactOnly[e.from] = 1; }
  const survivor = new Int32Array(n), removedAs = new Uint8Array(n);
  let exactRemoved = 0, nearRemoved = 0;
  for (let i = 0; i < n; i++) {
    survivor[i] = uf.find(i);
    if (survivor[i] !== i) {
      if (exactOnly[i]) { removedAs[i] = 1; exactRemoved++; } else { removedAs[i] = 2; nearRemoved++; }
    }
  }
  return { survivor, removedAs, exactRemoved, nearRemoved };
}

export interface RatePoint { sources: number; lastSource: string; docs: number; removed: number; rate: number }

/**
 * Dedup rate when the first k sources (k = 1..S) are deduplicated together, from the global links.
 * @example rateCurve(t, edges, ['cc-2019', 'cc-2020']) → [{ sources: 1, rate: 0.22, … }, { sources: 2, … }]
 */
export function rateCurve(t: SigTable, edges: readonly Edge[], sourceNames: readonly string[]): RatePoint[] {
  const byFrom = [...edges].sort((x, y) => x.from - y.from);
  const uf = new MinRootUnionFind(t.n);
  const out: RatePoint[] = [];
  let e = 0, unions = 0, end = 0;
  for (let k = 0; k < sourceNames.length; k++) {
    while (end < t.n && t.rank[end] <= k) end++;
    while (e < byFrom.length && byFrom[e].from < end) { if (uf.union(byFrom[e].from, byFrom[e].to)) unions++; e++; }
    out.push({ sources: k + 1, lastSource: sourceNames[k], docs: end, removed: unions, rate: end ? unions / end : 0 });
  }
  return out;
}

/** Paper Table 1: dedup rate (%) vs number of Common Crawl dumps deduplicated together. */
export const PAPER_TABLE1: ReadonlyArray<[number, number]> = [[1, 22.2], [2, 46.7], [6, 55.7], [12, 69.9], [16, 75.7], [22, 76.3], [41, 81.6], [91, 89.8]];
