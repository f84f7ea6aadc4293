// Exact + near dedup of an in-memory collection, across all sources at once. The task stages
// (src/data/stages.ts) do the same work split over files; this is the one-call library form.
import type { Doc } from '../types.js';
import { exactKey } from './exact.js';
import { cluster, findEdges, rateCurve, type Edge, type RatePoint, type SigTable } from './lsh.js';
import { DEFAULT_MINHASH, MinhashSigner, type MinhashConfig } from './minhash.js';

export interface DedupStats {
  docs: number;
  exactRemoved: number;
  nearRemoved: number;
  kept: number;
  /** dedup rate for the first k sources deduplicated together */
  curve: RatePoint[];
  perSource: Record<string, { docs: number; removed: number }>;
}

export interface DedupResult {
  /** per input document: true when it survives */
  keep: boolean[];
  /** per input document: id of the copy that survives in its cluster (its own id when kept) */
  survivorId: string[];
  edges: Edge[];
  stats: DedupStats;
}

/** Priority order: source rank (order of `sources`), then id. Unknown sources are an error. */
export function priorityOrder(docs: readonly Doc[], sources: readonly string[]): { order: number[]; rank: Int32Array } {
  const rankOf = new Map(sources.map((s, i) => [s, i]));
  const r = docs.map((d) => {
    const x = rankOf.get(d.source);
    if (x === undefined) throw new Error(`dedup: document ${d.id} has source '${d.source}', not among [${sources.join(', ')}]`);
    return x;
  });
  const order = docs.map((_, i) => i).sort((a, b) => r[a] - r[b] || (docs[a].id < docs[b].id ? -1 : docs[a].id > docs[b].id ? 1 : 0));
  return { order, rank: Int32Array.from(order, (i) => r[i]) };
}

export function dedupDocs(docs: readonly Doc[], sources: readonly string[], cfg: Readonly<MinhashConfig> = DEFAULT_MINHASH): DedupResult {
  const { order, rank } = priorityOrder(docs, sources);
  const signer = new MinhashSigner(cfg);
  const sorted = order.map((i) => docs[i]);
  const table: SigTable = {
    n: sorted.length, K: signer.K, rank,
    sigs: signer.sign(sorted.map((d) => d.text)),
    exact: sorted.map((d) => exactKey(d.text)),
  };
  const edges = findEdges(table, cfg);
  const cl = cluster(table.n, edges);
  const keep = new Array<boolean>(docs.length), survivorId = new Array<string>(docs.length);
  const perSource: DedupStats['perSource'] = {};
  for (const s of sources) perSource[s] = { docs: 0, removed: 0 };
  order.forEach((orig, g) => {
    keep[orig] = cl.survivor[g] === g;
    survivorId[orig] = sorted[cl.survivor[g]].id;
    const ps = perSource[sorted[g].source];
    ps.docs++; if (!keep[orig]) ps.removed++;
  });
  return {
    keep, survivorId, edges,
    stats: {
      docs: docs.length, exactRemoved: cl.exactRemoved, nearRemoved: cl.nearRemoved,
      kept: docs.length - cl.exactRemoved - cl.nearRemoved, curve: rateCurve(table, edges, sources), perSource,
    },
  };
}
