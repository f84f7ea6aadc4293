// Where tensor bytes live. The native backend hands out 64-byte aligned native blocks from its
// caching allocator; without the addon, plain ArrayBuffers (the GC frees them). Storage is
// reference-counted by the tensors viewing it, so views share bytes and the last dispose frees.
export interface Allocator {
  readonly name: string;
  alloc(bytes: number, zero: boolean): ArrayBuffer;
  free(buf: ArrayBuffer): void;
}

export const jsAllocator: Allocator = {
  name: 'js',
  alloc: (bytes) => new ArrayBuffer(bytes),
  free: () => { /* garbage-collected */ },
};

let current: Allocator = jsAllocator;

export function setAllocator(a: Allocator): void { current = a; }
export function allocator(): Allocator { return current; }

export class Storage {
  refs = 1;
  private constructor(public buffer: ArrayBuffer, private readonly owner: Allocator) {}

  static allocate(bytes: number, zero: boolean): Storage {
    return new Storage(current.alloc(bytes, zero), current);
  }

  /** wraps memory that someone else owns (e.g. a memory-mapped file); never freed by dsllm */
  static external(buffer: ArrayBuffer): Storage {
    return new Storage(buffer, jsAllocator);
  }

  get disposed(): boolean { return this.refs <= 0; }

  retain(): void {
    if (this.refs <= 0) throw new Error('Storage.retain: storage already freed');
    this.refs++;
  }

  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) this.owner.free(this.buffer);
  }
}
