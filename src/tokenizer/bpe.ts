// Byte-level BPE: turns the UTF-8 bytes of one pre-token piece into token ids.
//
// Merges are a table (left id, right id) → (rank, merged id): open addressing over one interleaved
// Int32Array, so a probe touches one cache line. Two ways to fill it:
//   - 'merges' (HF, GGUF): the merge list in order; rank = position in the list;
//   - 'ranks' (tiktoken): every split of a token t into two tokens (a, b) gives (a, b) → t with
//     rank = t's rank, which is exactly tiktoken's rule "merge the adjacent pair whose
//     concatenation has the lowest rank".
// Either way the lowest-rank pair is merged first and ties go to the leftmost pair (HF, llama.cpp
// and tiktoken agree on this). Short pieces use tiktoken's array scan (O(n²) but tiny n); long ones
// a binary heap over a linked list (O(n log n)), so a 100 kB piece without split points is fast.
// Results are cached per piece text (piece-cache.ts). Pieces with non-ASCII text are first cut at the character
// boundaries no token spans (cut-points.ts), and a lone character's ids are cached by code point:
// CJK runs, which rarely repeat as whole pieces, become mostly lookups.
import { encodeUtf8Into } from './byte-level.js';
import { CutPoints } from './cut-points.js';
import { PIECE_MAX, PieceCache } from './piece-cache.js';
import { IdBuffer } from './id-buffer.js';

export interface BpeModelSpec {
  /** bytes of each token id (ordinary tokens; ids without bytes are null) */
  tokens: (Uint8Array | null)[];
  /** merges as [left id, right id] in rank order ('merges'), or unused ('ranks') */
  merges?: [number, number][];
  mode: 'merges' | 'ranks';
  /** look the whole piece up first and emit it as one token if it is in the vocabulary */
  ignoreMerges?: boolean;
}

const SMALL = 48;           // pieces up to this many bytes use the array scan

const fnv = (h: number, b: number) => Math.imul(h ^ b, 16777619);
const FNV0 = 0x811c9dc5 | 0;

/** Token bytes → id, looked up by byte range without building keys. First id wins on duplicates. */
export class BytesMap {
  // slot k: [hash, id] at 2k, 2k+1; id -1 marks a free slot. Comparing hashes first means a miss
  // rarely has to fetch a token's bytes.
  private slots: Int32Array;
  private mask: number;
  constructor(private tokens: (Uint8Array | null)[]) {
    let cap = 1024;
    while (cap < tokens.length * 2) cap <<= 1;
    this.mask = cap - 1;
    this.slots = new Int32Array(cap * 2).fill(-1);
    tokens.forEach((t, id) => {
      if (!t || t.length === 0) return;
      let h = FNV0;
      for (let i = 0; i < t.length; i++) h = fnv(h, t[i]);
      for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
        const o = this.slots[2 * s + 1];
        if (o === -1) { this.slots[2 * s] = h; this.slots[2 * s + 1] = id; break; }
        if (this.slots[2 * s] === h && equal(tokens[o]!, t, 0, t.length)) break;
      }
    });
  }
  /** id of the token whose bytes are buf[a, b), or -1 */
  get(buf: Uint8Array, a: number, b: number): number {
    let h = FNV0;
    for (let i = a; i < b; i++) h = fnv(h, buf[i]);
    const slots = this.slots;
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const o = slots[2 * s + 1];
      if (o === -1) return -1;
      if (slots[2 * s] === h && equal(this.tokens[o]!, buf, a, b)) return o;
    }
  }
}

function equal(t: Uint8Array, buf: Uint8Array, a: number, b: number): boolean {
  if (t.length !== b - a) return false;
  for (let i = 0; i < t.length; i++) if (t[i] !== buf[a + i]) return false;
  return true;
}

export class BpeModel {
  readonly tokens: (Uint8Array | null)[];
  readonly mode: 'merges' | 'ranks';
  readonly ignoreMerges: boolean;
  /** id of the token made of one byte, -1 when the vocabulary lacks it */
  readonly byteId = new Int32Array(256).fill(-1);
  readonly bytesToId: BytesMap;
  readonly mergeCount: number;
  // pair table: slot k holds [left, right, rank, merged] at 4k…4k+3; left = -1 marks a free slot
  private table: Int32Array;
  private mask: number;
  // Most lookups miss (after a merge, the new token's neighbours rarely merge with it). Three small
  // bitsets answer most misses from cache without touching the big table: "id is the left of some
  // merge", "id is the right of some merge", and a one-hash filter over the pairs (8 bits per slot).
  private canLeft: Int32Array;
  private canRight: Int32Array;
  private filter: Int32Array;
  private filterMask: number;
  private cache = new PieceCache();
  // scratch for mergeSmall
  private ids = new Int32Array(SMALL);
  private ranks = new Int32Array(SMALL);
  private slots = new Int32Array(SMALL);
  /** table index of every byte pair's merge (-1: none): the first round of every piece, without hashing */
  private bytePair = new Int32Array(65536);
  private cuts: CutPoints | null = null;
  // a lone BMP character's ids: -1 unknown, ≥ 0 its one id, ≤ -2 at charMulti[-2 - v] as count, ids…
  private charIds = new Int32Array(65536).fill(-1);
  private charMulti: number[] = [];
  private charOut = new IdBuffer(8);

  constructor(spec: BpeModelSpec) {
    this.tokens = spec.tokens;
    this.mode = spec.mode;
    this.ignoreMerges = !!spec.ignoreMerges;
    this.bytesToId = new BytesMap(spec.tokens);
    for (let b = 0; b < 256; b++) this.byteId[b] = this.bytesToId.get(Uint8Array.of(b), 0, 1);
    const n = spec.mode === 'merges' ? (spec.merges ?? []).length : spec.tokens.length;
    let cap = 1024;
    while (cap < n * 2) cap <<= 1;
    this.mask = cap - 1;
    this.table = new Int32Array(cap * 4).fill(-1);
    this.bytePair.fill(-1);
    this.canLeft = new Int32Array((spec.tokens.length >> 5) + 1);
    this.canRight = new Int32Array((spec.tokens.length >> 5) + 1);
    this.filterMask = cap * 8 - 1;
    this.filter = new Int32Array(cap / 4);
    let count = 0;
    const add = (a: number, b: number, r: number, m: number) => {
      const t = this.table;
      for (let s = this.hash(a, b); ; s = (s + 1) & this.mask) {
        const k = s << 2;
        if (t[k] === -1) {
          t[k] = a; t[k + 1] = b; t[k + 2] = r; t[k + 3] = m; count++;
          this.canLeft[a >> 5] |= 1 << (a & 31);
          this.canRight[b >> 5] |= 1 << (b & 31);
          const f = this.hash(a, b, this.filterMask);
          this.filter[f >> 5] |= 1 << (f & 31);
          const ta = spec.tokens[a], tb = spec.tokens[b];
          if (ta && tb && ta.length === 1 && tb.length === 1 && this.byteId[ta[0]] === a && this.byteId[tb[0]] === b) this.bytePair[(ta[0] << 8) | tb[0]] = k;
          return;
        }
        if (t[k] === a && t[k + 1] === b) return; // a duplicate keeps its first (lowest) rank, as HF and llama.cpp do
      }
    };
    if (spec.mode === 'merges') {
      let buf = new Uint8Array(256);
      (spec.merges ?? []).forEach(([a, b], r) => {
        const ta = spec.tokens[a], tb = spec.tokens[b];
        if (!ta || !tb) return;
        const len = ta.length + tb.length;
        if (buf.length < len) buf = new Uint8Array(len * 2);
        buf.set(ta); buf.set(tb, ta.length);
        const m = this.bytesToId.get(buf, 0, len);
        if (m >= 0) add(a, b, r, m);
      });
    } else {
      // tiktoken ranks → merges. Whenever BPE forms token t inside any text, the bytes it covers went
      // through exactly the merges that BPE of t's bytes alone goes through (a merge across t's
      // boundary would have taken bytes out of it), so t always comes from the same final pair.
      // Finding that pair once per token, in rank order, gives a table of one merge per token
      // that is small enough to stay in cache.
      const parts = new IdBuffer(256);
      spec.tokens.forEach((t, id) => {
        if (!t || t.length < 2 || this.bytesToId.get(t, 0, t.length) !== id) return;
        parts.n = 0;
        this.mergeBytes(t, t.length, parts);
        if (parts.n === 2) add(parts.a[0], parts.a[1], id, id);
      });
    }
    this.mergeCount = count;
    this.cuts = new CutPoints(spec.tokens);
  }

  private hash(a: number, b: number, mask = this.mask): number {
    // murmur3's finalizer over a·2^17 + b style mixing: low bits depend on every input bit
    let h = Math.imul(a, 0x9e3779b1) ^ b;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & mask;
  }

  /** table index (4·slot) of the pair (a, b), or -1 */
  private find(a: number, b: number): number {
    if (((this.canLeft[a >> 5] >>> (a & 31)) & (this.canRight[b >> 5] >>> (b & 31)) & 1) === 0) return -1;
    let h = Math.imul(a, 0x9e3779b1) ^ b;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    const f = h & this.filterMask;
    if (((this.filter[f >> 5] >>> (f & 31)) & 1) === 0) return -1;
    const t = this.table, mask = this.mask;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const k = s << 2, l = t[k];
      if (l === a && t[k + 1] === b) return k;
      if (l === -1) return -1;
    }
  }

  /** rank of merging (a, b), or -1 when they do not merge */
  pairRank(a: number, b: number): number {
    const k = this.find(a, b);
    return k < 0 ? -1 : this.table[k + 2];
  }

  /** Appends the ids of one piece of text to `out` (cached per piece). */
  encodePiece(piece: string, scratch: { buf: Uint8Array }, out: IdBuffer): void {
    this.encodeRange(piece, 0, piece.length, scratch, out);
  }

  /** Appends the ids of the piece s[a, b) to `out` (cached per piece text; no string is made). */
  encodeRange(s: string, a: number, b: number, scratch: { buf: Uint8Array }, out: IdBuffer): void {
    // cache words (short, or ending in ASCII); long runs of CJK and the like rarely repeat
    const len = b - a;
    const cacheable = len <= PIECE_MAX && (len <= 4 || s.charCodeAt(b - 1) < 0x80);
    let h = 0;
    if (cacheable) {
      h = PieceCache.hash(s, a, b);
      if (this.cache.get(s, a, b, h, out)) return;
    }
    const n = encodeUtf8Into(s, a, b, scratch);
    const buf = scratch.buf;
    if (n === 1) { out.push(this.byteId[buf[0]]); return; }
    const start = out.n;
    if (this.ignoreMerges) {
      const id = this.bytesToId.get(buf, 0, n);
      if (id >= 0) out.push(id); else this.mergeCut(buf, n, len, out);
    } else this.mergeCut(buf, n, len, out);
    if (cacheable) this.cache.set(s, a, b, h, out.a, start, out.n);
  }

  /** BPE over raw bytes buf[0, n) (no cache). */
  mergeBytes(buf: Uint8Array, n: number, out: IdBuffer): void {
    this.mergeRange(buf, 0, n, out);
  }

  private mergeRange(buf: Uint8Array, a: number, b: number, out: IdBuffer): void {
    if (b - a <= SMALL) this.mergeSmall(buf, a, b, out); else this.mergeLarge(buf, a, b, out);
  }

  /**
   * BPE of buf[0, n) (the UTF-8 of `chars` UTF-16 units), cut where no token spans a character
   * boundary; each cut-off part merges alone, a lone character from the per-code-point cache.
   */
  private mergeCut(buf: Uint8Array, n: number, chars: number, out: IdBuffer): void {
    const cuts = this.cuts;
    if (n === chars || !cuts) { this.mergeRange(buf, 0, n, out); return; } // ASCII: letters join anyway
    let start = 0, prev = -1, count = 0;                                    // current part: from start, `count` characters
    for (let i = 0; i < n;) {
      const b0 = buf[i];
      let cp: number, len: number;
      if (b0 < 0x80) { cp = b0; len = 1; }
      else if (b0 < 0xe0) { cp = ((b0 & 31) << 6) | (buf[i + 1] & 63); len = 2; }
      else if (b0 < 0xf0) { cp = ((b0 & 15) << 12) | ((buf[i + 1] & 63) << 6) | (buf[i + 2] & 63); len = 3; }
      else { cp = -1; len = 4; }                                            // never cut next to a 4-byte character
      if (count > 0 && prev >= 0 && cp >= 0 && cuts.cuttable(prev, cp)) {
        if (count === 1) this.pushChar(prev, buf, start, i, out); else this.mergeRange(buf, start, i, out);
        start = i; count = 0;
      }
      prev = cp; count++; i += len;
    }
    if (count === 1 && prev >= 0) this.pushChar(prev, buf, start, n, out); else this.mergeRange(buf, start, n, out);
  }

  /** the ids of the lone BMP character cp, whose bytes are buf[a, b) */
  private pushChar(cp: number, buf: Uint8Array, a: number, b: number, out: IdBuffer): void {
    const v = this.charIds[cp];
    if (v >= 0) { out.push(v); return; }
    const multi = this.charMulti;
    if (v === -1) {
      const tmp = this.charOut;
      tmp.n = 0;
      this.mergeSmall(buf, a, b, tmp);
      if (tmp.n === 1) this.charIds[cp] = tmp.a[0];
      else {
        this.charIds[cp] = -2 - multi.length;
        multi.push(tmp.n);
        for (let i = 0; i < tmp.n; i++) multi.push(tmp.a[i]);
      }
      return this.pushChar(cp, buf, a, b, out);
    }
    const at = -2 - v, cnt = multi[at];
    for (let i = 1; i <= cnt; i++) out.push(multi[at + i]);
  }

  private mergeSmall(buf: Uint8Array, a: number, b: number, out: IdBuffer): void {
    const ids = this.ids, ranks = this.ranks, slots = this.slots, byteId = this.byteId, t = this.table;
    const NONE = 0x7fffffff;
    const bytePair = this.bytePair;
    const n = b - a;
    for (let i = 0; i < n; i++) ids[i] = byteId[buf[a + i]];
    let m = n;
    for (let i = 0; i + 1 < m; i++) {
      const k = bytePair[(buf[a + i] << 8) | buf[a + i + 1]];
      slots[i] = k; ranks[i] = k < 0 ? NONE : t[k + 2];
    }
    for (;;) {
      let best = -1, bestRank = NONE;
      for (let i = 0; i + 1 < m; i++) if (ranks[i] < bestRank) { bestRank = ranks[i]; best = i; }
      if (best < 0) break;
      ids[best] = t[slots[best] + 3];
      for (let i = best + 1; i + 1 < m; i++) { ids[i] = ids[i + 1]; ranks[i] = ranks[i + 1]; slots[i] = slots[i + 1]; }
      m--;
      if (best > 0) { const k = this.find(ids[best - 1], ids[best]); slots[best - 1] = k; ranks[best - 1] = k < 0 ? NONE : t[k + 2]; }
      if (best + 1 < m) { const k = this.find(ids[best], ids[best + 1]); slots[best] = k; ranks[best] = k < 0 ? NONE : t[k + 2]; }
    }
    if (out.n + m > out.a.length) out.grow(out.n + m);
    const oa = out.a;
    let o = out.n;
    for (let i = 0; i < m; i++) oa[o++] = ids[i];
    out.n = o;
  }

  private mergeLarge(buf: Uint8Array, a: number, b: number, out: IdBuffer): void {
    const n = b - a;
    const id = new Int32Array(n), next = new Int32Array(n), prev = new Int32Array(n), dead = new Uint8Array(n);
    for (let i = 0; i < n; i++) { id[i] = this.byteId[buf[a + i]]; next[i] = i + 1; prev[i] = i - 1; }
    next[n - 1] = -1;
    // min-heap of rank·2^32 + position: lowest rank first, then leftmost
    const heap = new MinHeap(n);
    const SHIFT = 4294967296;
    for (let i = 0; i + 1 < n; i++) {
      const r = this.pairRank(id[i], id[i + 1]);
      if (r >= 0) heap.push(r * SHIFT + i);
    }
    const t = this.table;
    while (heap.size) {
      const top = heap.pop();
      const r = Math.floor(top / SHIFT), i = top - r * SHIFT;
      const j = next[i];
      if (dead[i] || j < 0) continue;                    // merged away, or now last
      const k = this.find(id[i], id[j]);
      if (k < 0 || t[k + 2] !== r) continue;             // stale entry
      id[i] = t[k + 3];
      dead[j] = 1;
      const after = next[j];
      next[i] = after;
      if (after >= 0) prev[after] = i;
      const p = prev[i];
      if (p >= 0) { const rp = this.pairRank(id[p], id[i]); if (rp >= 0) heap.push(rp * SHIFT + p); }
      if (after >= 0) { const ra = this.pairRank(id[i], id[after]); if (ra >= 0) heap.push(ra * SHIFT + i); }
    }
    for (let i = 0; i >= 0; i = next[i]) out.push(id[i]);
  }

  /** the merges as [left, right] in rank order (for writing tokenizer.json) */
  mergeList(): [number, number][] {
    const t = this.table, rows: [number, number, number][] = [];
    for (let k = 0; k < t.length; k += 4) if (t[k] !== -1) rows.push([t[k + 2], t[k], t[k + 1]]);
    rows.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
    return rows.map(([, a, b]) => [a, b]);
  }

  clearCache(): void {
    this.cache.clear();
    this.charIds.fill(-1); this.charMulti.length = 0;
  }
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
