// A growable Uint32Array of token ids. Pushing into a JS array of a million numbers is several
// times slower than writing a typed array (the encoder's output is its hottest store).
export class IdBuffer {
  a: Uint32Array;
  n = 0;
  /** `shared`: backed by SharedArrayBuffers, so that views of it can be posted to another thread
   *  without a copy or a transfer (the pool's workers reply with views of theirs) */
  constructor(capacity = 1024, private readonly shared = false) { this.a = this.alloc(Math.max(16, capacity)); }
  private alloc(n: number): Uint32Array { return this.shared ? new Uint32Array(new SharedArrayBuffer(n * 4)) : new Uint32Array(n); }
  push(id: number): void {
    if (this.n === this.a.length) this.grow(this.n + 1);
    this.a[this.n++] = id;
  }
  pushAll(ids: Uint32Array): void {
    if (this.n + ids.length > this.a.length) this.grow(this.n + ids.length);
    this.a.set(ids, this.n);
    this.n += ids.length;
  }
  grow(min: number): void {
    const b = this.alloc(Math.max(min, this.a.length * 2));
    b.set(this.a.subarray(0, this.n));
    this.a = b;
  }
  /** the ids so far (a view when it fills most of the buffer, else a copy) */
  toArray(): Uint32Array { return this.n * 4 >= this.a.length * 3 ? this.a.subarray(0, this.n) : this.a.slice(0, this.n); }
}
