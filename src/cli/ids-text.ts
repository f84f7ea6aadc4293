// Token ids as text, written straight into bytes: `encode --lines` prints millions of ids, and making a
// string per id and joining them cost the main thread ~0.3 µs an id, more than the workers spent
// encoding (6.4 MB of English: 1.5M ids, ~500 ms of formatting against ~70 ms of encoding).

/** reused call after call: fresh pages cost ~20 µs each here, more than the digits written in them */
let scratch = Buffer.alloc(0);

/** Lines of ids, one per text (text i: ids[offsets[i] .. offsets[i + 1])), space-separated or as
 *  JSON arrays, each ending in "\n". The bytes are valid until the next call. */
export function idLines(ids: Uint32Array, offsets: Uint32Array, texts: number, json: boolean): Buffer {
  // ten digits and a separator per id at most, and "[]\n" per line
  const need = (offsets[texts] - offsets[0]) * 11 + texts * 3;
  if (scratch.length < need) scratch = Buffer.allocUnsafeSlow(need + (need >> 2));
  const out = scratch;
  let o = 0;
  for (let t = 0; t < texts; t++) {
    if (json) out[o++] = 0x5b;  // [
    for (let i = offsets[t], end = offsets[t + 1]; i < end; i++) {
      if (i > offsets[t]) out[o++] = json ? 0x2c : 0x20;  // , or space
      o = writeDecimal(out, o, ids[i]);
    }
    if (json) out[o++] = 0x5d;  // ]
    out[o++] = 0x0a;
  }
  return out.subarray(0, o);
}

/** writes n (< 2^32) in decimal at out[o]; returns the end */
function writeDecimal(out: Buffer, o: number, n: number): number {
  if (n < 10) { out[o] = 0x30 + n; return o + 1; }
  let digits = 1;
  for (let p = 10; p <= n && digits < 10; p *= 10) digits++;
  for (let i = o + digits - 1; i >= o; i--) { out[i] = 0x30 + (n % 10); n = Math.floor(n / 10); }
  return o + digits;
}
