// Reference GEMM: the obvious triple loop, accumulated in f64. The test oracle for native.gemm.
//   C = alpha·op(A)·op(B) + beta·C for each matrix of the batch, in batch order.
// As BLAS: beta = 0 never reads C, and alpha = 0 or k = 0 reads neither A nor B.
// bf16 mode rounds every A and B element to bf16 (round-to-nearest-even) before multiplying.
import type { GemmArgs, Kernels } from '../../core/backend.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 value of bf16 bits */
export function bf16Value(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}

/** x rounded to bf16 precision, round-to-nearest-even (NaN stays NaN) */
export function roundBf16(x: number): number {
  f32[0] = x;
  const u = u32[0];
  if ((u & 0x7fffffff) > 0x7f800000) return NaN;
  u32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return f32[0];
}

function fail(what: string): never {
  throw new Error(`reference.gemm: ${what}`);
}

function count(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 0) fail(`${name} must be a non-negative integer, got ${x}`);
  return x;
}

function isFloatData(x: unknown): x is Float32Array | Uint16Array {
  return x instanceof Float32Array || x instanceof Uint16Array;
}

export const gemmKernels: Pick<Kernels, 'gemm'> = {
  gemm(g: GemmArgs): void {
    const m = count('m', g.m, -1), n = count('n', g.n, -1), k = count('k', g.k, -1);
    if (!isFloatData(g.a)) fail("argument 'a' must be a Float32Array or Uint16Array (bf16)");
    if (!isFloatData(g.b)) fail("argument 'b' must be a Float32Array or Uint16Array (bf16)");
    if (!(g.c instanceof Float32Array)) fail("argument 'c' must be a Float32Array");
    const transA = g.transA ?? false, transB = g.transB ?? false;
    const alpha = g.alpha ?? 1, beta = g.beta ?? 0;
    if (!Number.isFinite(alpha) || !Number.isFinite(beta)) fail('alpha and beta must be finite');
    const aRows = transA ? k : m, aCols = transA ? m : k;
    const bRows = transB ? n : k, bCols = transB ? k : n;
    const lda = count('lda', g.lda, Math.max(1, aCols));
    const ldb = count('ldb', g.ldb, Math.max(1, bCols));
    const ldc = count('ldc', g.ldc, Math.max(1, n));
    if (lda < Math.max(1, aCols)) fail(`lda (${lda}) must be >= ${Math.max(1, aCols)}`);
    if (ldb < Math.max(1, bCols)) fail(`ldb (${ldb}) must be >= ${Math.max(1, bCols)}`);
    if (ldc < Math.max(1, n)) fail(`ldc (${ldc}) must be >= ${Math.max(1, n)}`);
    const batch = count('batch', g.batch, 1);
    const sA = count('strideA', g.strideA, aRows * lda);
    const sB = count('strideB', g.strideB, bRows * ldb);
    const sC = count('strideC', g.strideC, m * ldc);
    const need = (rows: number, cols: number, ld: number, s: number) =>
      batch === 0 || rows === 0 || cols === 0 ? 0 : (batch - 1) * s + (rows - 1) * ld + cols;
    const check = (name: string, len: number, nd: number) => {
      if (len < nd) fail(`argument '${name}' holds ${len} elements, needs at least ${nd}`);
    };
    check('a', g.a.length, need(aRows, aCols, lda, sA));
    check('b', g.b.length, need(bRows, bCols, ldb, sB));
    check('c', g.c.length, need(m, n, ldc, sC));

    const bf16 = g.bf16 ?? false;
    const read = (x: Float32Array | Uint16Array): ((i: number) => number) => {
      if (x instanceof Uint16Array) return (i) => bf16Value(x[i]);
      return bf16 ? (i) => roundBf16(x[i]) : (i) => x[i];
    };
    const A = read(g.a), B = read(g.b), C = g.c;
    const skipProduct = alpha === 0 || k === 0;
    for (let t = 0; t < batch; t++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          if (!skipProduct) {
            for (let p = 0; p < k; p++) {
              const ai = t * sA + (transA ? p * lda + i : i * lda + p);
              const bi = t * sB + (transB ? j * ldb + p : p * ldb + j);
              s += A(ai) * B(bi);
            }
          }
          const ci = t * sC + i * ldc + j;
          C[ci] = alpha * s + (beta === 0 ? 0 : beta * C[ci]);
        }
      }
    }
  },
};
