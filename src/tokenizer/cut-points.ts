// Where BPE can cut a piece: character boundaries that no token of the vocabulary spans.
//
// A merge only ever forms a token of the vocabulary. If no token's bytes can cover the end of
// character A together with the start of the next character B, no merge joins them, and the two
// sides merge on their own: BPE(…A | B…) = BPE(…A) ++ BPE(B…). Every merge acts on one side, and
// each side goes through the merges it would go through alone (a rank names one pair, so equal
// ranks on both sides are the same merge, and merges on different sides commute).
//
// This turns CJK runs into per-character lookups: with cl100k_base, 98% of the character
// boundaries in the Chinese corpus are cut points, and a lone character's ids are cached.
//
// A token spans the boundary at one of its own character starts p. Its bytes before p (the left
// part) end with all of A, or are a proper suffix of A's bytes when the token starts inside A;
// its bytes from p (the right part) start with all of B, or are a proper prefix of B's bytes.
// Each part is named by a key: a whole character (its code point, BMP only) or 1–2 stray bytes
// (PARTIAL + …). The (left, right) key pairs that tokens show are held in a hash set. Only BMP
// characters are considered (the caller never cuts next to a 4-byte character), and two ASCII
// characters are never cut apart (letters join anyway; leaving them out keeps the set small).

const PARTIAL1 = 0x10000;           // + byte
const PARTIAL2 = 0x10100;           // + (b0 << 8 | b1)
const KEYS = PARTIAL2 + 0x10000;

/** UTF-8 length from a lead byte (0: a continuation or invalid byte) */
function charLength(b: number): number {
  return b < 0x80 ? 1 : b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0;
}

const isCont = (b: number) => (b & 0xc0) === 0x80;

/** code point of the whole BMP character t[a, b), or -1 */
function bmpChar(t: Uint8Array, a: number, b: number): number {
  const n = b - a;
  if (n !== charLength(t[a]) || n > 3) return -1;
  if (n === 1) return t[a];
  if (!isCont(t[a + 1])) return -1;
  if (n === 2) return ((t[a] & 31) << 6) | (t[a + 1] & 63);
  if (!isCont(t[a + 2])) return -1;
  return ((t[a] & 15) << 12) | ((t[a + 1] & 63) << 6) | (t[a + 2] & 63);
}

/** key of 1–2 stray bytes t[a, b), or -1 */
function partialKey(t: Uint8Array, a: number, b: number): number {
  if (b - a === 1) return PARTIAL1 + t[a];
  if (b - a === 2) return PARTIAL2 + ((t[a] << 8) | t[a + 1]);
  return -1;
}

export class CutPoints {
  // does some token show this key as its left / right part
  private left = new Uint8Array(KEYS);
  private right = new Uint8Array(KEYS);
  // (left key, right key) pairs: open addressing, [l, r] at 2k, 2k+1, l = -1 free
  private pairs!: Int32Array;
  private mask!: number;

  constructor(tokens: readonly (Uint8Array | null)[]) {
    // two passes over the spans tokens show: count them to size the set, then add them
    let count = 0;
    this.forEachSpan(tokens, () => { count++; });
    let cap = 1024;
    while (cap < count * 2) cap <<= 1;
    this.mask = cap - 1;
    this.pairs = new Int32Array(cap * 2).fill(-1);
    this.forEachSpan(tokens, (l, r) => this.add(l, r));
  }

  /** calls f(left key, right key) for each character start inside each token, ASCII pairs left out */
  private forEachSpan(tokens: readonly (Uint8Array | null)[], f: (l: number, r: number) => void): void {
    for (const t of tokens) {
      if (!t) continue;
      for (let p = 1; p < t.length; p++) {
        if (isCont(t[p]) || (t[p] < 0x80 && t[p - 1] < 0x80)) continue;  // ASCII pairs are never cut
        let q = p - 1;
        while (q >= 0 && isCont(t[q])) q--;
        const l = q < 0 ? partialKey(t, 0, p) : bmpChar(t, q, p);
        const n = charLength(t[p]);
        if (l < 0 || n === 0 || n === 4) continue;
        const r = p + n <= t.length ? bmpChar(t, p, p + n) : partialKey(t, p, t.length);
        if (r >= 0) f(l, r);
      }
    }
  }

  private slot(l: number, r: number): number {
    let h = Math.imul(l, 0x9e3779b1) ^ r;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    return (h ^ (h >>> 13)) & this.mask;
  }

  private add(l: number, r: number): void {
    this.left[l] = 1; this.right[r] = 1;
    const t = this.pairs;
    for (let s = this.slot(l, r); ; s = (s + 1) & this.mask) {
      if (t[2 * s] === -1) { t[2 * s] = l; t[2 * s + 1] = r; return; }
      if (t[2 * s] === l && t[2 * s + 1] === r) return;
    }
  }

  private has(l: number, r: number): boolean {
    const t = this.pairs;
    for (let s = this.slot(l, r); ; s = (s + 1) & this.mask) {
      const x = t[2 * s];
      if (x === l && t[2 * s + 1] === r) return true;
      if (x === -1) return false;
    }
  }

  /** true when no token spans the boundary between BMP characters a and b (surrogates excluded);
   *  false between two ASCII characters, which this set does not hold */
  cuttable(a: number, b: number): boolean {
    if ((a | b) < 0x80) return false;
    const L = this.left, R = this.right;
    // left keys of a: itself, its last byte, its last two bytes
    const l0 = L[a] ? a : -1;
    let l1 = -1, l2 = -1;
    if (a >= 0x80) {
      const k1 = PARTIAL1 + (0x80 | (a & 63));
      if (L[k1]) l1 = k1;
      if (a >= 0x800) {
        const k2 = PARTIAL2 + (((0x80 | ((a >> 6) & 63)) << 8) | (0x80 | (a & 63)));
        if (L[k2]) l2 = k2;
      }
    }
    if ((l0 & l1 & l2) === -1) return true;
    // right keys of b: itself, its lead byte, its first two bytes
    const r0 = R[b] ? b : -1;
    let r1 = -1, r2 = -1;
    if (b >= 0x80) {
      const lead = b < 0x800 ? 0xc0 | (b >> 6) : 0xe0 | (b >> 12);
      const k1 = PARTIAL1 + lead;
      if (R[k1]) r1 = k1;
      if (b >= 0x800) {
        const k2 = PARTIAL2 + ((lead << 8) | (0x80 | ((b >> 6) & 63)));
        if (R[k2]) r2 = k2;
      }
    }
    if ((r0 & r1 & r2) === -1) return true;
    return !(this.spans(l0, r0, r1, r2) || this.spans(l1, r0, r1, r2) || this.spans(l2, r0, r1, r2));
  }

  /** does a token join left key l with one of the right keys (-1: none) */
  private spans(l: number, r0: number, r1: number, r2: number): boolean {
    if (l < 0) return false;
    return (r0 >= 0 && this.has(l, r0)) || (r1 >= 0 && this.has(l, r1)) || (r2 >= 0 && this.has(l, r2));
  }
}
