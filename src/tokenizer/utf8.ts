// UTF-8 decoding that counts what it replaces. Invalid or truncated sequences become U+FFFD by the
// "maximal subpart" rule (the WHATWG Encoding standard, Rust's from_utf8_lossy and Python's
// errors="replace" agree), and `invalid` counts the replacements. With stream = true an incomplete
// sequence at the end is held back for the next call, so a streaming decode never splits a character.
import { isUtf8 } from 'node:buffer';

export class Utf8Decoder {
  /** replacement characters produced so far */
  invalid = 0;
  private need = 0;       // continuation bytes still expected
  private seen = 0;
  private cp = 0;
  private lower = 0x80;
  private upper = 0xbf;

  decode(bytes: Uint8Array, stream = false): string {
    // fast path: nothing held back and the bytes (but an unfinished last character) valid UTF-8,
    // which Node checks natively; the byte loop below runs ~25 ns a byte
    if (this.need === 0 && bytes.length > 64) {
      const cut = completeLength(bytes);
      if (isUtf8(bytes.subarray(0, cut))) return NATIVE.decode(bytes.subarray(0, cut)) + this.slowDecode(bytes.subarray(cut), stream);
    }
    return this.slowDecode(bytes, stream);
  }

  private slowDecode(bytes: Uint8Array, stream: boolean): string {
    const units: number[] = [];
    let s = '';
    const emit = (c: number) => {
      if (c > 0xffff) { c -= 0x10000; units.push(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff)); } else units.push(c);
      if (units.length > 8192) { s += String.fromCharCode(...units); units.length = 0; }
    };
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (this.need === 0) {
        if (b < 0x80) { emit(b); continue; }
        if (b >= 0xc2 && b <= 0xdf) { this.need = 1; this.cp = b & 0x1f; }
        else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) this.lower = 0xa0;
          if (b === 0xed) this.upper = 0x9f;
          this.need = 2; this.cp = b & 0xf;
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) this.lower = 0x90;
          if (b === 0xf4) this.upper = 0x8f;
          this.need = 3; this.cp = b & 0x7;
        } else { this.invalid++; emit(0xfffd); }
        continue;
      }
      if (b < this.lower || b > this.upper) {
        // the sequence so far is a maximal subpart: replace it, then look at b afresh
        this.reset(); this.invalid++; emit(0xfffd); i--; continue;
      }
      this.lower = 0x80; this.upper = 0xbf;
      this.cp = (this.cp << 6) | (b & 0x3f);
      if (++this.seen === this.need) { emit(this.cp); this.reset(); }
    }
    if (!stream && this.need) { this.reset(); this.invalid++; emit(0xfffd); }
    return s + String.fromCharCode(...units);
  }

  /** true while part of a character is held back */
  get pending(): boolean { return this.need > 0; }

  private reset(): void { this.need = 0; this.seen = 0; this.cp = 0; this.lower = 0x80; this.upper = 0xbf; }
}

/** the native decoder of the fast path, keeping a leading BOM as a character as the byte loop does */
const NATIVE = new TextDecoder('utf-8', { ignoreBOM: true });

/** bytes.length, less an unfinished character at the end (its lead byte and 0-2 continuations) */
function completeLength(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
    const b = bytes[i];
    if ((b & 0xc0) === 0x80) continue;  // a continuation byte: look further back
    const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + len > bytes.length ? i : bytes.length;
  }
  return bytes.length;
}

/** Decodes bytes in one go; `invalid` counts U+FFFD replacements. */
export function decodeUtf8(bytes: Uint8Array): { text: string; invalid: number } {
  const d = new Utf8Decoder();
  const text = d.decode(bytes);
  return { text, invalid: d.invalid };
}
