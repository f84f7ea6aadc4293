// The kernel contract. Two backends implement it: `native` (the C++ addon, used for real work) and
// `reference` (plain TypeScript, the oracle for tests). Conventions, as llm.c's:
//   - outputs first, then inputs, then weights, then sizes;
//   - buffers are row-major and contiguous unless a stride/leading dimension says otherwise;
//   - a `d` prefix is a gradient; backward kernels ADD into every gradient they write (+=), so
//     gradients from several uses of a tensor accumulate without extra copies;
//   - bf16 storage is a Uint16Array of bit patterns; `FloatData` inputs accept f32 or bf16;
//   - every kernel validates its arguments and throws an Error naming the kernel and the argument.
import type { F32, FloatData, I32, U16 } from './dtype.js';

/** Storage formats of inference weights; q8_0/q4_0 are GGUF's 32-element blocks (infer/weight-source.ts). */
export type WeightFormat = 'f32' | 'bf16' | 'f16' | 'q8_0' | 'q4_0';

export interface GemmArgs {
  m: number; n: number; k: number;
  /** op(A) is m×k: stored m×k (lda ≥ k), or k×m when transA (lda ≥ m). f32 or bf16. */
  a: FloatData;
  /** op(B) is k×n: stored k×n (ldb ≥ n), or n×k when transB (ldb ≥ k). f32 or bf16. */
  b: FloatData;
  /** m×n, ldc ≥ n. Always f32. */
  c: F32;
  transA?: boolean; transB?: boolean;
  /** C = alpha·op(A)·op(B) + beta·C. beta = 0 (default) never reads C (NaNs there do not leak). */
  alpha?: number; beta?: number;
  lda?: number; ldb?: number; ldc?: number;
  /** number of independent products; element strides between consecutive A, B, C matrices
   *  (a stride of 0 reuses one matrix for the whole batch) */
  batch?: number; strideA?: number; strideB?: number; strideC?: number;
  /** round A and B to bf16 and accumulate in f32 (AVX512-BF16 where the CPU has it) */
  bf16?: boolean;
}

export interface AttentionArgs {
  /** batch, query length, key length (Tk ≥ Tq), query heads, kv heads (divides H), head dim */
  B: number; Tq: number; Tk: number; H: number; Hkv: number; D: number;
  /** rows per batch in the k/v buffers (≥ Tk); a KV cache has kvCap = its capacity */
  kvCap?: number;
  /** softmax scale, default 1/sqrt(D) */
  scale?: number;
  /** query i sits at absolute position Tk - Tq + i and sees keys j ≤ that position */
  causal?: boolean;
}

/** Arguments of a batched decode-attention step (Kernels.decodeAttention). */
export interface DecodeAttentionArgs {
  /** query heads, kv heads (divides H), head dim (even) */
  H: number; Hkv: number; D: number;
  /** softmax scale, default 1/sqrt(D) */
  scale?: number;
}

/** An f32 weight matrix W [n, k] laid out once by a backend for repeated y = x·Wᵀ (Kernels.prepackWeights). */
export interface PackedWeights {
  readonly n: number;
  readonly k: number;
  /** the backend's layout (opaque to callers) */
  readonly data: F32;
}

export interface Kernels {
  readonly name: string;

  // ---- matmul ---------------------------------------------------------------------------------
  gemm(args: GemmArgs): void;

  // ---- embedding: out[i,:] = table[ids[i],:] ---------------------------------------------------
  embeddingForward(out: F32, ids: I32, table: FloatData, N: number, C: number, V: number): void;
  /** dtable[ids[i],:] += dout[i,:], deterministic (no atomics) */
  embeddingBackward(dtable: F32, dout: F32, ids: I32, N: number, C: number, V: number): void;

  // ---- RMSNorm over the last dim: out = x · rstd · w, rstd = 1/sqrt(mean(x²) + eps) -----------
  /** rstd (N floats) is saved for backward; pass null in inference */
  rmsnormForward(out: F32, rstd: F32 | null, x: F32, w: FloatData, N: number, C: number, eps: number): void;
  rmsnormBackward(dx: F32, dw: F32, dout: F32, x: F32, w: FloatData, rstd: F32, N: number, C: number): void;

  // ---- RoPE, HF rotate-half layout, x is [B,T,H,D]; cos/sin are [maxT, D/2] tables -----------
  /** token t of every sequence sits at position pos0 + t; out may alias x */
  ropeForward(out: F32, x: F32, cos: F32, sin: F32, B: number, T: number, H: number, D: number, pos0: number): void;
  ropeBackward(dx: F32, dout: F32, cos: F32, sin: F32, B: number, T: number, H: number, D: number, pos0: number): void;

  // ---- SwiGLU: out = silu(gate) ⊙ up ----------------------------------------------------------
  swigluForward(out: F32, gate: F32, up: F32, n: number): void;
  swigluBackward(dgate: F32, dup: F32, dout: F32, gate: F32, up: F32, n: number): void;

  // ---- causal attention, flash-style (tiled, online softmax, never a T×T matrix), GQA ---------
  /** q,out: [B,Tq,H,D]; k,v: [B,kvCap,Hkv,D]; lse: [B,H,Tq] log-sum-exp saved for backward (null in inference) */
  attentionForward(out: F32, lse: F32 | null, q: F32, k: F32, v: F32, args: AttentionArgs): void;
  /** training shapes: Tq = Tk = kvCap */
  attentionBackward(dq: F32, dk: F32, dv: F32, dout: F32, q: F32, k: F32, v: F32, out: F32, lse: F32, args: AttentionArgs): void;

  // ---- softmax cross-entropy over rows of logits [N,V] -----------------------------------------
  /** losses[i] = logsumexp(logits[i]) − logits[i, targets[i]] (0 where targets[i] = ignoreIndex).
   *  When dlogits is given (it may alias logits) it receives gradScale·(softmax − onehot), 0 rows where ignored. */
  crossEntropy(losses: F32, dlogits: F32 | null, logits: F32, targets: I32, N: number, V: number, ignoreIndex: number, gradScale: number): void;

  // ---- optimizer ------------------------------------------------------------------------------
  /** One AdamW step exactly as torch.optim.AdamW: p ← p·(1 − lr·wd); m,v moments of g = grad·gradScale;
   *  p ← p − lr/(1−β1^step) · m / (sqrt(v)/sqrt(1−β2^step) + eps). If paramBf16 is given it receives bf16(p). */
  adamw(param: F32, grad: F32, m: F32, v: F32, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, step: number, gradScale: number, paramBf16: U16 | null): void;
  /** Σ x², accumulated in f64 */
  sumSquares(x: F32, n: number): number;

  // ---- conversions (round-to-nearest-even; NaN stays NaN) -------------------------------------
  f32ToBf16(out: U16, x: F32, n: number): void;
  bf16ToF32(out: F32, x: U16, n: number): void;
  f32ToF16(out: U16, x: F32, n: number): void;
  f16ToF32(out: F32, x: U16, n: number): void;

  // ---- elementwise ----------------------------------------------------------------------------
  /** out = a + b (out may alias a or b) */
  add(out: F32, a: F32, b: F32, n: number): void;
  /** dst += src */
  addInto(dst: F32, src: F32, n: number): void;
  /** x *= s */
  scale(x: F32, s: number, n: number): void;
  /** copies a strided view (up to 6 dims, element strides, element offset) of `x` into contiguous `out`;
   *  out and x share one element type (f32, 16-bit or i32) */
  copyStrided(out: Float32Array | Uint16Array | Int32Array, x: Float32Array | Uint16Array | Int32Array,
    shape: number[], strides: number[], offset: number): void;
  /** index of the first NaN/±Inf in x[0..n), or −1 */
  firstNonFinite(x: F32, n: number): number;

  // ---- inference weights: GGUF block formats and 16-bit storage (native/quant.cc) --------------
  /** x[0..n) (n a multiple of 32) to q8_0/q4_0 blocks, rounding as ggml's reference quantizers */
  quantize(out: Uint8Array, x: F32, fmt: 'q8_0' | 'q4_0', n: number): void;
  /** n elements stored in `fmt` (raw bytes) to f32 */
  dequantize(out: F32, w: Uint8Array, fmt: WeightFormat, n: number): void;
  /** out[i,:] = row ids[i] of w [V, k] (stored in `fmt`) as f32 */
  embedRows(out: F32, ids: I32, w: Uint8Array, fmt: WeightFormat, N: number, k: number, V: number): void;
  /**
   * y [rows, n] = x [rows, k] · Wᵀ with W [n, k] stored in `fmt`. mode 'dot' (few rows, memory-bound):
   * x quantized to q8_0 blocks for q8_0/q4_0 weights (int8 dot products, as ggml), kept f32 against
   * f32/bf16/f16 weights. mode 'gemm' (many rows): x and the dequantized weights rounded to bf16 (f16
   * and f32 weights: both f32) into the blocked GEMM.
   */
  matmulQuant(y: F32, x: F32, w: Uint8Array, fmt: WeightFormat, rows: number, n: number, k: number, mode: 'dot' | 'gemm'): void;
  /** W [n, k] (f32, row-major) in the layout matmulPrepacked reads (built once per weight matrix) */
  prepackWeights(w: F32, n: number, k: number): PackedWeights;
  /** y [m, n] = x [m, k] · Wᵀ. Each row of y is computed the same way whatever m (a row's result does not
   *  depend on the rows it is batched with) */
  matmulPrepacked(y: F32, x: F32, w: PackedWeights, m: number): void;
  /**
   * One decode step of attention for S sequences with their own KV caches ([cap, Hkv, D] each): sequence s
   * has its new token in row rows[s] of q [·, H·D] and kNew/vNew [·, Hkv·D], at position pos[s]. Its k
   * (RoPE'd at pos[s], HF rotate-half with the [maxT, D/2] tables cos/sin) and v are written to row pos[s]
   * of kCaches[s]/vCaches[s]; the RoPE'd q then attends keys 0..pos[s]; out [·, H·D] gets rows rows[s].
   * Rows and caches must be distinct. A row's result does not depend on the other sequences.
   */
  decodeAttention(out: F32, q: F32, kNew: F32, vNew: F32, kCaches: F32[], vCaches: F32[], rows: I32, pos: I32,
    cos: F32, sin: F32, args: DecodeAttentionArgs): void;
  /** reads every byte of buf once (all threads) and returns a checksum: measures memory bandwidth */
  streamRead(buf: Uint8Array): number;
}
