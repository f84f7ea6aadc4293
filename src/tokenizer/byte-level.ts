// GPT-2's byte-level alphabet: each of the 256 byte values is shown as one printable character, so a
// byte-level BPE vocabulary can be stored as text (tokenizer.json, GGUF). Printable Latin-1 bytes map
// to themselves; the other 68 (controls, space, 0x7F–0xA0, 0xAD) map to U+0100 upwards in byte order.
// Also here: UTF-8 encoding of a JS string into a reusable buffer (the encoder's hot path).

/** BYTE_TO_CHAR[b] is the character that stands for byte b */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();
/** code point → byte, -1 where the code point is not in the alphabet */
const CHAR_TO_BYTE = new Int16Array(0x144).fill(-1);
BYTE_TO_CHAR.forEach((c, b) => { CHAR_TO_BYTE[c.codePointAt(0)!] = b; });

function buildByteToChar(): string[] {
  const out: string[] = new Array(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(printable(b) ? b : 0x100 + n++);
  return out;
}

/** The byte-level text of some bytes (`"Ġthe"` for `" the"`). */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]];
  return s;
}

/**
 * Token byte strings packed into shared 1 MiB blocks: a vocabulary's 100k tokens as views of a few
 * ArrayBuffers rather than 100k ArrayBuffers of their own (those cost a third of a second of
 * allocation and collection each time a vocabulary loaded).
 */
export class ByteArena {
  private block = new Uint8Array(0);
  private blockBuf = Buffer.alloc(0);
  private used = 0;

  /** room for n more bytes in the current block */
  private reserve(n: number): void {
    if (this.used + n <= this.block.length) return;
    this.block = new Uint8Array(Math.max(1 << 20, n));
    this.blockBuf = Buffer.from(this.block.buffer);
    this.used = 0;
  }

  /** a view of n fresh bytes */
  alloc(n: number): Uint8Array {
    this.reserve(n);
    const v = this.block.subarray(this.used, this.used + n);
    this.used += n;
    return v;
  }

  /** the bytes a base64 string stands for */
  base64(s: string): Uint8Array {
    this.reserve(Math.ceil(s.length / 4) * 3);
    const n = this.blockBuf.write(s, this.used, 'base64');
    const v = this.block.subarray(this.used, this.used + n);
    this.used += n;
    return v;
  }
}

/** The bytes behind a byte-level string, or null when some character is not in the alphabet. */
export function byteLevelToBytes(s: string, arena?: ByteArena): Uint8Array | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) return null;
  }
  const out = arena ? arena.alloc(s.length) : new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = CHAR_TO_BYTE[s.charCodeAt(i)];
  return out;
}

const encoder = new TextEncoder();
export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/**
 * UTF-8 bytes of s[start, end) written into `scratch` (grown when short); returns the byte count
 * and the buffer in use. Lone surrogates become U+FFFD, as TextEncoder does.
 */
export function encodeUtf8Into(s: string, start: number, end: number, scratch: { buf: Uint8Array }): number {
  if (scratch.buf.length < (end - start) * 3) scratch.buf = new Uint8Array((end - start) * 3 + 64);
  const buf = scratch.buf;
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) { buf[n++] = c; continue; }
    if (c < 0x800) { buf[n++] = 0xc0 | (c >> 6); buf[n++] = 0x80 | (c & 63); continue; }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < end ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        buf[n++] = 0xf0 | (c >> 18); buf[n++] = 0x80 | ((c >> 12) & 63);
        buf[n++] = 0x80 | ((c >> 6) & 63); buf[n++] = 0x80 | (c & 63);
        continue;
      }
      c = 0xfffd;
    }
    buf[n++] = 0xe0 | (c >> 12); buf[n++] = 0x80 | ((c >> 6) & 63); buf[n++] = 0x80 | (c & 63);
  }
  return n;
}
