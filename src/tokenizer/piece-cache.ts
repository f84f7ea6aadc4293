// Piece text → its token ids, looked up by a range of a string without making the piece string.
//
// The pre-tokenizer hands the encoder ranges of the input; slicing each into a string and asking
// a Map cost a string allocation and a hash per piece (most of an English text's encode time, and
// the garbage a worker thread collected). Here a piece is hashed from its UTF-16 units in place;
// keys live in one Uint16Array and ids in one Uint32Array, so a lookup allocates nothing.
//
// Table slot k: [hash, key (offset · 32 + length) into `chars`, value] at 3k…3k+2; key -1 is free.
// value ≥ 0: the piece's one id; value < 0: -(offset · 64 + count) into `ids`.
// When full (entries, keys or ids) the cache is emptied: simple, and a text's common words come
// back within a few hundred pieces.

export const PIECE_MAX = 24;        // longer pieces (rarely repeated) are not cached
const ENTRIES = 1 << 15;            // cleared when it holds this many pieces
const SLOTS = ENTRIES * 2;          // load ≤ 1/2
const MAX_IDS = 63;                 // count must fit in 6 bits

export class PieceCache {
  private table = new Int32Array(SLOTS * 3).fill(-1);
  private chars = new Uint16Array(ENTRIES * PIECE_MAX);
  private charsUsed = 0;
  private ids = new Uint32Array(1 << 17);
  private idsUsed = 0;
  private size = 0;

  /** FNV-1a over the UTF-16 units of s[a, b) */
  static hash(s: string, a: number, b: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return h;
  }

  /** slot index (×3) of s[a, b) with hash h: its own when cached, else the free one it would take */
  private slot(s: string, a: number, b: number, h: number): number {
    const t = this.table, chars = this.chars, len = b - a;
    for (let k = h & (SLOTS - 1); ; k = (k + 1) & (SLOTS - 1)) {
      const i = 3 * k, key = t[i + 1];
      if (key === -1) return i;
      if (t[i] !== h || (key & 31) !== len) continue;
      let off = key >>> 5, j = a;
      while (j < b && chars[off] === s.charCodeAt(j)) { off++; j++; }
      if (j === b) return i;
    }
  }

  /** Appends the cached ids of s[a, b) (hash h) to out and returns true, or returns false. */
  get(s: string, a: number, b: number, h: number, out: { a: Uint32Array; n: number; grow(min: number): void }): boolean {
    const i = this.slot(s, a, b, h), t = this.table;
    if (t[i + 1] === -1) return false;
    const v = t[i + 2];
    if (v >= 0) {
      if (out.n === out.a.length) out.grow(out.n + 1);
      out.a[out.n++] = v;
      return true;
    }
    const off = (-v) >>> 6, cnt = -v & 63;
    if (out.n + cnt > out.a.length) out.grow(out.n + cnt);
    const oa = out.a, ids = this.ids;
    for (let k = 0, o = out.n; k < cnt; k++) oa[o + k] = ids[off + k];
    out.n += cnt;
    return true;
  }

  /** Caches s[a, b) (hash h, at most PIECE_MAX units) → ids[from, to). */
  set(s: string, a: number, b: number, h: number, ids: Uint32Array, from: number, to: number): void {
    const cnt = to - from;
    if (cnt > MAX_IDS || b - a > PIECE_MAX) return;
    if (this.size >= ENTRIES || this.idsUsed + cnt > this.ids.length) this.clear();
    const i = this.slot(s, a, b, h), t = this.table;
    if (t[i + 1] !== -1) return;
    const chars = this.chars, at = this.charsUsed;
    for (let j = a; j < b; j++) chars[at + j - a] = s.charCodeAt(j);
    this.charsUsed += b - a;
    t[i] = h; t[i + 1] = (at << 5) | (b - a);
    if (cnt === 1) t[i + 2] = ids[from];
    else {
      const store = this.ids, base = this.idsUsed;
      for (let k = 0; k < cnt; k++) store[base + k] = ids[from + k];
      t[i + 2] = -(base * 64 + cnt);
      this.idsUsed += cnt;
    }
    this.size++;
  }

  clear(): void {
    this.table.fill(-1);
    this.charsUsed = 0; this.idsUsed = 0; this.size = 0;
  }
}
