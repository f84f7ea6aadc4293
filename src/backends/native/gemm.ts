// Native GEMM: one addon call with every argument positional (no per-call allocation).
// Defaults: alpha 1, beta 0, minimal leading dimensions, batch 1, and for a batch the matrices
// packed back to back (strideA = rows·lda etc.; pass 0 explicitly to share one matrix).
import type { GemmArgs, Kernels } from '../../core/backend.js';
import { addon } from './addon.js';

const gemmFn = addon.gemm as (
  c: Float32Array, a: Float32Array | Uint16Array, b: Float32Array | Uint16Array,
  m: number, n: number, k: number, transA: boolean, transB: boolean, alpha: number, beta: number,
  lda: number, ldb: number, ldc: number, batch: number, strideA: number, strideB: number, strideC: number,
  bf16: boolean) => void;

export const gemmKernels: Pick<Kernels, 'gemm'> = {
  gemm(g: GemmArgs): void {
    const { m, n, k } = g;
    const transA = g.transA ?? false, transB = g.transB ?? false;
    const lda = g.lda ?? Math.max(1, transA ? m : k);
    const ldb = g.ldb ?? Math.max(1, transB ? k : n);
    const ldc = g.ldc ?? Math.max(1, n);
    gemmFn(g.c, g.a, g.b, m, n, k, transA, transB, g.alpha ?? 1, g.beta ?? 0, lda, ldb, ldc,
      g.batch ?? 1, g.strideA ?? (transA ? k : m) * lda, g.strideB ?? (transB ? n : k) * ldb, g.strideC ?? m * ldc,
      g.bf16 ?? false);
  },
};

/** What this build of the addon runs: instruction set, whether bf16 mode has a native kernel
 *  (AVX512-BF16; without it bf16 mode rounds the inputs and multiplies in f32, about 2x slower),
 *  and the micro-tile. For a start-up warning; not part of the Kernels contract. */
export function gemmCaps(): { isa: 'avx512' | 'avx2' | 'scalar'; bf16Kernel: boolean; mr: number; nr: number } {
  return addon.gemmCaps();
}
