// Tensor: a typed, shaped, strided view of reference-counted native storage.
// Views (reshape of contiguous data, transpose, slice) share storage without copying; kernels take
// contiguous buffers, so `contiguous()` materializes a view when needed (one native strided copy).
// Lifetime is explicit: dispose() or a scope (see scope.ts) frees storage when the last view goes,
// so a long training run does not depend on the garbage collector.
import { DTYPE_BYTES, viewOf, type AnyData, type DType } from './dtype.js';
import { Storage } from './storage.js';
import { track } from './scope.js';
import { kernels } from './runtime.js';

export type Shape = readonly number[];

export function numelOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly numel: number;
  /** gradient (f32, same shape), created by backward */
  grad: Tensor | null = null;
  requiresGrad = false;
  /** a human-readable name for errors (HF weight name for parameters) */
  name = '';
  private _data: AnyData | null = null;
  private _disposed = false;

  constructor(
    readonly storage: Storage,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`Tensor: invalid shape ${shapeStr(shape)}`);
    }
    this.numel = numelOf(shape);
    track(this);
  }

  // ---- creation ---------------------------------------------------------------------------------
  static empty(shape: Shape, dtype: DType = 'f32'): Tensor {
    return new Tensor(Storage.allocate(numelOf(shape) * DTYPE_BYTES[dtype], false), dtype, [...shape]);
  }

  static zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
    return new Tensor(Storage.allocate(numelOf(shape) * DTYPE_BYTES[dtype], true), dtype, [...shape]);
  }

  static from(data: ArrayLike<number>, shape: Shape = [data.length], dtype: DType = 'f32'): Tensor {
    if (numelOf(shape) !== data.length) throw new Error(`Tensor.from: ${data.length} values do not fill shape ${shapeStr(shape)}`);
    const t = Tensor.empty(shape, dtype);
    if (dtype === 'bf16' || dtype === 'f16') {
      if (!(data instanceof Uint16Array)) throw new Error(`Tensor.from: ${dtype} data must be a Uint16Array of bit patterns`);
    }
    (t.data as AnyData).set(data as ArrayLike<number>);
    return t;
  }

  // ---- access -----------------------------------------------------------------------------------
  get disposed(): boolean { return this._disposed; }

  isContiguous(): boolean {
    const c = contiguousStrides(this.shape);
    for (let i = 0; i < this.shape.length; i++) if (this.shape[i] !== 1 && this.strides[i] !== c[i]) return false;
    return true;
  }

  /** the elements as a typed array (contiguous tensors only) */
  get data(): AnyData {
    if (this._disposed) throw new Error(`Tensor ${this.describe()}: used after dispose`);
    if (!this.isContiguous()) throw new Error(`Tensor ${this.describe()}: not contiguous; call contiguous() first`);
    if (!this._data) this._data = viewOf(this.dtype, this.storage.buffer, this.offset, this.numel);
    return this._data;
  }

  get f32(): Float32Array {
    if (this.dtype !== 'f32') throw new Error(`Tensor ${this.describe()}: expected f32, is ${this.dtype}`);
    return this.data as Float32Array;
  }

  get u16(): Uint16Array {
    if (this.dtype !== 'bf16' && this.dtype !== 'f16') throw new Error(`Tensor ${this.describe()}: expected bf16/f16, is ${this.dtype}`);
    return this.data as Uint16Array;
  }

  get i32(): Int32Array {
    if (this.dtype !== 'i32') throw new Error(`Tensor ${this.describe()}: expected i32, is ${this.dtype}`);
    return this.data as Int32Array;
  }

  describe(): string {
    return `${this.name ? this.name + ' ' : ''}${this.dtype}${shapeStr(this.shape)}`;
  }

  /** plain JS numbers (for tests and printing; converts bf16/f16) */
  toArray(): number[] {
    const t = this.contiguous();
    const d = t.data;
    let out: number[];
    if (t.dtype === 'bf16') {
      const f = new Float32Array(t.numel);
      kernels().bf16ToF32(f, d as Uint16Array, t.numel);
      out = Array.from(f);
    } else if (t.dtype === 'f16') {
      const f = new Float32Array(t.numel);
      kernels().f16ToF32(f, d as Uint16Array, t.numel);
      out = Array.from(f);
    } else out = Array.from(d);
    if (t !== this) t.dispose();
    return out;
  }

  item(): number {
    if (this.numel !== 1) throw new Error(`Tensor.item: ${this.describe()} has ${this.numel} elements`);
    return this.toArray()[0];
  }

  // ---- views ------------------------------------------------------------------------------------
  private view(shape: Shape, strides: readonly number[], offset: number): Tensor {
    if (this._disposed) throw new Error(`Tensor ${this.describe()}: used after dispose`);
    this.storage.retain();
    const t = new Tensor(this.storage, this.dtype, shape, strides, offset);
    t.name = this.name;
    return t;
  }

  /** same elements, new shape (one dim may be -1); a view when contiguous, else a copy */
  reshape(shape: number[]): Tensor {
    const s = [...shape];
    const neg = s.indexOf(-1);
    if (neg >= 0) {
      const rest = numelOf(s.filter((_, i) => i !== neg));
      s[neg] = rest === 0 ? 0 : this.numel / rest;
    }
    if (numelOf(s) !== this.numel || s.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new Error(`reshape: cannot reshape ${this.describe()} (${this.numel} elements) to ${shapeStr(shape)}`);
    }
    if (this.isContiguous()) return this.view(s, contiguousStrides(s), this.offset);
    const c = this.contiguous();
    const r = c.view(s, contiguousStrides(s), c.offset);
    c.dispose();
    return r;
  }

  transpose(d0: number, d1: number): Tensor {
    const r = this.shape.length;
    const a = d0 < 0 ? d0 + r : d0, b = d1 < 0 ? d1 + r : d1;
    if (a < 0 || a >= r || b < 0 || b >= r) throw new Error(`transpose: dims ${d0},${d1} out of range for ${this.describe()}`);
    const shape = [...this.shape], strides = [...this.strides];
    [shape[a], shape[b]] = [shape[b], shape[a]];
    [strides[a], strides[b]] = [strides[b], strides[a]];
    return this.view(shape, strides, this.offset);
  }

  /** elements [start, end) along dim, as a view */
  slice(dim: number, start: number, end: number): Tensor {
    const r = this.shape.length;
    const d = dim < 0 ? dim + r : dim;
    if (d < 0 || d >= r) throw new Error(`slice: dim ${dim} out of range for ${this.describe()}`);
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= this.shape[d])) {
      throw new Error(`slice: [${start}, ${end}) out of range for dim ${d} of ${this.describe()}`);
    }
    const shape = [...this.shape];
    shape[d] = end - start;
    return this.view(shape, this.strides, this.offset + start * this.strides[d]);
  }

  /** this tensor if contiguous (a new reference to it), else a contiguous copy */
  contiguous(): Tensor {
    if (this.isContiguous()) return this.view(this.shape, contiguousStrides(this.shape), this.offset);
    const out = Tensor.empty(this.shape, this.dtype);
    const src = viewOf(this.dtype, this.storage.buffer, 0, this.storage.buffer.byteLength / DTYPE_BYTES[this.dtype]);
    kernels().copyStrided(out.data, src, [...this.shape], [...this.strides], this.offset);
    return out;
  }

  /** a contiguous copy in another dtype (f32 ↔ bf16/f16) */
  to(dtype: DType): Tensor {
    const src = this.contiguous();
    if (dtype === this.dtype) return src;
    const out = Tensor.empty(this.shape, dtype);
    const k = kernels();
    if (src.dtype === 'f32' && dtype === 'bf16') k.f32ToBf16(out.u16, src.f32, src.numel);
    else if (src.dtype === 'f32' && dtype === 'f16') k.f32ToF16(out.u16, src.f32, src.numel);
    else if (src.dtype === 'bf16' && dtype === 'f32') k.bf16ToF32(out.f32, src.u16, src.numel);
    else if (src.dtype === 'f16' && dtype === 'f32') k.f16ToF32(out.f32, src.u16, src.numel);
    else { src.dispose(); out.dispose(); throw new Error(`to: ${this.dtype} → ${dtype} not supported`); }
    src.dispose();
    return out;
  }

  // ---- lifetime ---------------------------------------------------------------------------------
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._data = null;
    this.storage.release();
    if (this.grad) { this.grad.dispose(); this.grad = null; }
  }
}
