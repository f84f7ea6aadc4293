// One weight matrix [rows, cols] in its storage format, and y = x·Wᵀ on it. f32: the GEMM on the
// matrix packed once into the micro-kernel's panels (Kernels.prepackWeights, built on first use),
// for every row count: the per-call packing of the plain GEMM cost more than the product for the
// 8-64 rows of a batched decode step (16 rows of micro's 3072×512 q/k/v: 0.58 → 0.30 ms, one thread),
// one row reads it as fast as matmulQuant's dot mode (all of micro's matrices, cold, one thread: 6.1
// vs 6.5 ms), and a row's logits do not depend on what it is batched with. A matrix that is only
// multiplied (everything but the embedding) lets go of its row-major copy once packed
// (packForProducts), so f32 weights are not held twice. Other formats: matmulQuant's 'dot' mode for a
// few rows (decode: memory-bound, weights streamed once from storage) and its 'gemm' mode above that
// (prefill).
import { kernels } from '../core/runtime.js';
import type { PackedWeights, WeightFormat } from '../core/backend.js';
import { QK, weightByteSize } from './weight-source.js';

/** rows of x up to which the direct (dot) path beats dequantize-and-GEMM (measured on micro shapes,
 *  per CPU-second: q8_0 dot 37 µs/row vs gemm mode 17 µs/row at 16 rows for 1536×512) */
export const DOT_MAX_ROWS = 4;

export class WeightMatrix {
  /** the f32 view when dtype is f32 (null once released by packForProducts) */
  private f32: Float32Array | null;
  /** f32: the matrix in the GEMM's layout, built by packForProducts or the first matmul */
  private packed: PackedWeights | null = null;
  private rowMajor: Uint8Array;

  constructor(readonly dtype: WeightFormat, readonly rows: number, readonly cols: number, data: Uint8Array) {
    const need = weightByteSize(dtype, rows, cols);
    if (data.byteLength !== need) throw new RangeError(`WeightMatrix: ${dtype} [${rows}, ${cols}] needs ${need} bytes, got ${data.byteLength}`);
    if (dtype === 'f32') {
      // a Float32Array view needs 4-byte alignment; copy the rare misaligned input
      const d = data.byteOffset % 4 === 0 ? data : data.slice();
      this.rowMajor = d;
      this.f32 = new Float32Array(d.buffer, d.byteOffset, rows * cols);
    } else {
      this.rowMajor = data.byteOffset % 2 !== 0 ? data.slice() : data;
      this.f32 = null;
    }
  }

  /** the matrix's bytes in its storage format, row-major */
  get data(): Uint8Array {
    if (this.dtype === 'f32' && !this.f32) throw new Error(`WeightMatrix [${this.rows}, ${this.cols}]: the row-major copy was released by packForProducts`);
    return this.rowMajor;
  }

  get byteLength(): number { return this.f32 || this.dtype !== 'f32' ? this.rowMajor.byteLength : this.packed!.data.byteLength; }

  /** f32: packs the matrix for products now and releases the row-major copy (for matrices that are only
   *  multiplied, never gathered from or converted again); other formats: nothing to do */
  packForProducts(): void {
    if (this.dtype !== 'f32' || !this.f32) return;
    this.packed ??= kernels().prepackWeights(this.f32, this.rows, this.cols);
    this.f32 = null;
    this.rowMajor = new Uint8Array(0);
  }

  /** an f32 matrix as the model's own storage (no copy) */
  static fromF32(x: Float32Array, rows: number, cols: number): WeightMatrix {
    return new WeightMatrix('f32', rows, cols, new Uint8Array(x.buffer, x.byteOffset, rows * cols * 4));
  }

  /** whether a [rows, cols] matrix can be stored in fmt (block formats need whole blocks per row) */
  static canStore(fmt: WeightFormat, cols: number): boolean {
    return (fmt !== 'q8_0' && fmt !== 'q4_0') || cols % QK === 0;
  }

  /** the whole matrix as f32 (a new array) */
  toF32(): Float32Array {
    const out = new Float32Array(this.rows * this.cols);
    kernels().dequantize(out, this.data, this.dtype, out.length);
    return out;
  }

  /** this matrix converted to fmt (itself when already there) */
  convert(fmt: WeightFormat): WeightMatrix {
    if (fmt === this.dtype) return this;
    const x = this.f32 ?? this.toF32();
    const n = this.rows * this.cols, k = kernels();
    if (fmt === 'f32') return WeightMatrix.fromF32(x, this.rows, this.cols);
    const out = new Uint8Array(weightByteSize(fmt, this.rows, this.cols));
    if (fmt === 'bf16') k.f32ToBf16(new Uint16Array(out.buffer), x, n);
    else if (fmt === 'f16') k.f32ToF16(new Uint16Array(out.buffer), x, n);
    else k.quantize(out, x, fmt, n);
    return new WeightMatrix(fmt, this.rows, this.cols, out);
  }

  /**
   * The matrices stacked row-wise into one (q/k/v, gate/up: one matmul instead of several, one
   * thread-pool dispatch per decode step instead of three). Same format: bytes concatenated (block
   * formats are per row); mixed formats meet in f32, the one format every other converts to exactly.
   */
  static concatRows(ms: WeightMatrix[]): WeightMatrix {
    const cols = ms[0].cols;
    if (ms.some((m) => m.cols !== cols)) throw new RangeError(`concatRows: column counts differ (${ms.map((m) => m.cols)})`);
    const fmt = ms.every((m) => m.dtype === ms[0].dtype) ? ms[0].dtype : 'f32';
    const parts = ms.map((m) => m.convert(fmt));
    const rows = parts.reduce((a, m) => a + m.rows, 0);
    const out = new Uint8Array(weightByteSize(fmt, rows, cols));
    let off = 0;
    for (const m of parts) { out.set(m.data, off); off += m.data.byteLength; }
    return new WeightMatrix(fmt, rows, cols, out);
  }

  /** y [m, rows] = x [m, cols] · Wᵀ (y and x may be longer than needed) */
  matmul(y: Float32Array, x: Float32Array, m: number): void {
    if (this.dtype === 'f32') {
      this.packed ??= kernels().prepackWeights(this.f32!, this.rows, this.cols);
      kernels().matmulPrepacked(y, x, this.packed, m);
      return;
    }
    kernels().matmulQuant(y, x, this.data, this.dtype, m, this.rows, this.cols, m <= DOT_MAX_ROWS ? 'dot' : 'gemm');
  }

  /** out [N, cols] = rows ids of the matrix as f32 (an embedding lookup) */
  gatherRows(out: Float32Array, ids: Int32Array, N: number): void {
    kernels().embedRows(out, ids, this.data, this.dtype, N, this.cols, this.rows);
  }
}
