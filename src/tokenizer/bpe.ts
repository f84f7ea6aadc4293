// Byte-level BPE: turns the UTF-8 bytes of one pre-token piece into token ids.
//
// Merges are a table (left id, right id) → (rank, merged id) in an open-addressing hash over typed
// arrays. Two ways to fill it:
//   - 'merges' (HF, GGUF): the merge list in order; rank = position in the list;
//   - 'ranks' (tiktoken): every split of a token t into two tokens (a, b) gives (a, b) → t with
//     rank = t's rank, which is exactly tiktoken's rule "merge the adjacent pair whose
//     concatenation has the lowest rank".
// Either way the lowest-rank pair is merged first and ties go to the leftmost pair (HF, llama.cpp
// and tiktoken agree on this). Short pieces use tiktoken's array scan (O(n²) but tiny n); long ones
// a binary heap over a linked list (O(n log n)), so a 100 kB piece without split points is fast.
// Results are cached per piece string.

import { encodeUtf8Into } from './byte-level.js';

export interface BpeModelSpec {
  /** bytes of each token id (ordinary tokens; ids without bytes are null) */
  tokens: (Uint8Array | null)[];
  /** merges as [left id, right id] in rank order ('merges'), or unused ('ranks') */
  merges?: [number, number][];
  mode: 'merges' | 'ranks';
  /** look the whole piece up first and emit it as one token if it is in the vocabulary */
  ignoreMerges?: boolean;
}

const SMALL = 48;          // pieces up to this many bytes use the array scan
const CACHE_MAX = 1 << 17; // cached pieces; the cache is cleared when it gets this big
const CACHE_PIECE_MAX = 64; // longer pieces are not cached

export const bytesKey = (b: Uint8Array, n = b.length): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(b[i]);
  return s;
};

export class BpeModel {
  readonly tokens: (Uint8Array | null)[];
  readonly mode: 'merges' | 'ranks';
  readonly ignoreMerges: boolean;
  /** id of the token made of one byte, -1 when the vocabulary lacks it */
  readonly byteId = new Int32Array(256).fill(-1);
  /** latin1 string of a token's bytes → id */
  readonly bytesToId = new Map<string, number>();
  readonly mergeCount: number;
  // pair table
  private mask: number;
  private keyA: Int32Array; private keyB: Int32Array;
  private rank: Int32Array; private merged: Int32Array;
  private cache = new Map<string, number | number[]>();
  // scratch
  private ids = new Int32Array(256);
  private ranks = new Float64Array(256);

  constructor(spec: BpeModelSpec) {
    this.tokens = spec.tokens;
    this.mode = spec.mode;
    this.ignoreMerges = !!spec.ignoreMerges;
    spec.tokens.forEach((b, id) => {
      if (!b) return;
      const k = bytesKey(b);
      if (!this.bytesToId.has(k)) this.bytesToId.set(k, id);
      if (b.length === 1 && this.byteId[b[0]] < 0) this.byteId[b[0]] = id;
    });
    const pairs: [number, number, number, number][] = [];
    if (spec.mode === 'merges') {
      (spec.merges ?? []).forEach(([a, b], r) => {
        const ta = spec.tokens[a], tb = spec.tokens[b];
        if (!ta || !tb) return;
        const cat = new Uint8Array(ta.length + tb.length);
        cat.set(ta); cat.set(tb, ta.length);
        const m = this.bytesToId.get(bytesKey(cat));
        if (m !== undefined) pairs.push([a, b, r, m]);
      });
    } else {
      spec.tokens.forEach((t, id) => {
        if (!t || t.length < 2) return;
        for (let k = 1; k < t.length; k++) {
          const a = this.bytesToId.get(bytesKey(t.subarray(0, k)));
          const b = a === undefined ? undefined : this.bytesToId.get(bytesKey(t.subarray(k)));
          if (a !== undefined && b !== undefined) pairs.push([a, b, id, id]);
        }
      });
    }
    this.mergeCount = pairs.length;
    let cap = 1024;
    while (cap < pairs.length * 2) cap <<= 1;
    this.mask = cap - 1;
    this.keyA = new Int32Array(cap).fill(-1); this.keyB = new Int32Array(cap);
    this.rank = new Int32Array(cap); this.merged = new Int32Array(cap);
    for (const [a, b, r, m] of pairs) {
      let h = this.hash(a, b);
      while (this.keyA[h] !== -1 && !(this.keyA[h] === a && this.keyB[h] === b)) h = (h + 1) & this.mask;
      if (this.keyA[h] === -1) { this.keyA[h] = a; this.keyB[h] = b; this.rank[h] = r; this.merged[h] = m; }
      // a duplicate pair keeps its first (lowest) rank, as HF and llama.cpp do
    }
  }

  private hash(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0 & this.mask;
  }

  /** slot of the pair (a, b) in the table, or -1 */
  private find(a: number, b: number): number {
    let h = this.hash(a, b);
    const keyA = this.keyA, keyB = this.keyB, mask = this.mask;
    for (;;) {
      const k = keyA[h];
      if (k === a && keyB[h] === b) return h;
      if (k === -1) return -1;
      h = (h + 1) & mask;
    }
  }

  /** rank of merging (a, b), or Infinity */
  pairRank(a: number, b: number): number {
    const s = this.find(a, b);
    return s < 0 ? Infinity : this.rank[s];
  }

  /** Appends the ids of one piece of text to `out` (cached per piece). */
  encodePiece(piece: string, scratch: { buf: Uint8Array }, out: number[]): void {
    const hit = this.cache.get(piece);
    if (hit !== undefined) {
      if (typeof hit === 'number') out.push(hit); else for (let i = 0; i < hit.length; i++) out.push(hit[i]);
      return;
    }
    const n = encodeUtf8Into(piece, 0, piece.length, scratch);
    const buf = scratch.buf;
    if (n === 1) { out.push(this.byteId[buf[0]]); return; }
    const key = piece;
    const start = out.length;
    if (this.ignoreMerges) {
      const id = this.bytesToId.get(bytesKey(buf, n));
      if (id !== undefined) out.push(id); else this.mergeBytes(buf, n, out);
    } else this.mergeBytes(buf, n, out);
    if (n <= CACHE_PIECE_MAX) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(key, out.length - start === 1 ? out[start] : out.slice(start));
    }
  }

  /** BPE over raw bytes (no cache). */
  mergeBytes(buf: Uint8Array, n: number, out: number[]): void {
    if (n <= SMALL) this.mergeSmall(buf, n, out); else this.mergeLarge(buf, n, out);
  }

  private mergeSmall(buf: Uint8Array, n: number, out: number[]): void {
    const ids = this.ids, ranks = this.ranks, byteId = this.byteId;
    for (let i = 0; i < n; i++) ids[i] = byteId[buf[i]];
    let m = n;
    for (let i = 0; i + 1 < m; i++) ranks[i] = this.pairRank(ids[i], ids[i + 1]);
    for (;;) {
      let best = -1, bestRank = Infinity;
      for (let i = 0; i + 1 < m; i++) if (ranks[i] < bestRank) { bestRank = ranks[i]; best = i; }
      if (best < 0) break;
      ids[best] = this.merged[this.find(ids[best], ids[best + 1])];
      for (let i = best + 1; i + 1 < m; i++) { ids[i] = ids[i + 1]; ranks[i] = ranks[i + 1]; }
      m--;
      if (best > 0) ranks[best - 1] = this.pairRank(ids[best - 1], ids[best]);
      if (best + 1 < m) ranks[best] = this.pairRank(ids[best], ids[best + 1]);
    }
    for (let i = 0; i < m; i++) out.push(ids[i]);
  }

  private mergeLarge(buf: Uint8Array, n: number, out: number[]): void {
    const id = new Int32Array(n), next = new Int32Array(n), prev = new Int32Array(n), dead = new Uint8Array(n);
    for (let i = 0; i < n; i++) { id[i] = this.byteId[buf[i]]; next[i] = i + 1; prev[i] = i - 1; }
    next[n - 1] = -1;
    // min-heap of rank·2^32 + position: lowest rank first, then leftmost
    const heap = new MinHeap(n);
    const SHIFT = 4294967296;
    for (let i = 0; i + 1 < n; i++) {
      const r = this.pairRank(id[i], id[i + 1]);
      if (r !== Infinity) heap.push(r * SHIFT + i);
    }
    while (heap.size) {
      const top = heap.pop();
      const r = Math.floor(top / SHIFT), i = top - r * SHIFT;
      const j = next[i];
      if (dead[i] || j < 0) continue;                    // merged away, or now last
      const s = this.find(id[i], id[j]);
      if (s < 0 || this.rank[s] !== r) continue;         // stale entry
      id[i] = this.merged[s];
      dead[j] = 1;
      const k = next[j];
      next[i] = k;
      if (k >= 0) prev[k] = i;
      const p = prev[i];
      if (p >= 0) { const rp = this.pairRank(id[p], id[i]); if (rp !== Infinity) heap.push(rp * SHIFT + p); }
      if (k >= 0) { const rk = this.pairRank(id[i], id[k]); if (rk !== Infinity) heap.push(rk * SHIFT + i); }
    }
    for (let i = 0; i >= 0; i = next[i]) out.push(id[i]);
  }

  clearCache(): void { this.cache.clear(); }
}

class MinHeap {
  private a: Float64Array;
  size = 0;
  constructor(cap: number) { this.a = new Float64Array(Math.max(16, cap)); }
  push(v: number): void {
    if (this.size === this.a.length) { const b = new Float64Array(this.a.length * 2); b.set(this.a); this.a = b; }
    const a = this.a;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p]; i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a, top = a[0], v = a[--this.size];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && a[c + 1] < a[c]) c++;
      if (a[c] >= v) break;
      a[i] = a[c]; i = c;
    }
    a[i] = v;
    return top;
  }
}
