// GEMM micro-kernels: C[MR x NR] (=|+=) alpha * Apanel . Bpanel over kc, with the panels laid out
// by gemm_pack.h. The MR x NR accumulators live in registers for the whole k loop; C is touched
// once at the end, with masks for the matrix edge.
//   AVX-512 f32:  MR x 32, 28 zmm accumulators for MR = 14; one FMA per accumulator per k, two
//                 B vectors loaded and one A value broadcast per row.
//   AVX-512 bf16: the same shape over k pairs with vdpbf16ps (two products per lane per op).
//   fallback:     plain C++ MR x NR loops the compiler vectorizes (AVX2 6 x 16 when present).
#pragma once
#include <cstdint>
#include <immintrin.h>

namespace dsllm {
namespace gemm {

#if defined(__AVX512F__)
constexpr int kMR = 14;  // rows per micro-tile
constexpr int kNV = 2;   // 16-float vectors per micro-tile row
constexpr int kNR = 16 * kNV;

// Writes one row of accumulators: C = alpha*acc + beta*C (beta == 0: C is not read).
template <int NV>
static inline void StoreRow(float* c, const __m512* acc, int nr, __m512 va, float beta) {
  if (nr >= 16 * NV) {
    if (beta == 0.0f) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + 16 * v, _mm512_mul_ps(va, acc[v]));
    } else {
      __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        _mm512_storeu_ps(c + 16 * v, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + 16 * v), _mm512_mul_ps(va, acc[v])));
    }
    return;
  }
  for (int v = 0; v < NV; ++v) {
    int left = nr - 16 * v;
    if (left <= 0) break;
    __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
    __m512 r = _mm512_mul_ps(va, acc[v]);
    if (beta != 0.0f) r = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m, c + 16 * v), r);
    _mm512_mask_storeu_ps(c + 16 * v, m, r);
  }
}

// The 14 x 32 k loop in assembly: gcc keeps a 28-accumulator array in registers only sometimes
// (it spilled it here), and this loop is the whole GEMM. zmm0..27 accumulate (row i in zmm 2i,
// 2i+1), zmm28/29 hold the B row, zmm30/31 alternate as the broadcast A value. The tile of
// accumulators is written to `tile` ([14][32] floats, 64-byte aligned) for the C update.
#define DSLLM_R(op, bc, off, t, c0, c1)                  \
  bc " " #off "(%[a]), %%zmm" #t "\n\t"                \
  op " %%zmm28, %%zmm" #t ", %%zmm" #c0 "\n\t"         \
  op " %%zmm29, %%zmm" #t ", %%zmm" #c1 "\n\t"
#define DSLLM_ROWS(op, bc)                                                                        \
  DSLLM_R(op, bc, 0, 30, 0, 1) DSLLM_R(op, bc, 4, 31, 2, 3) DSLLM_R(op, bc, 8, 30, 4, 5)            \
  DSLLM_R(op, bc, 12, 31, 6, 7) DSLLM_R(op, bc, 16, 30, 8, 9) DSLLM_R(op, bc, 20, 31, 10, 11)       \
  DSLLM_R(op, bc, 24, 30, 12, 13) DSLLM_R(op, bc, 28, 31, 14, 15) DSLLM_R(op, bc, 32, 30, 16, 17)   \
  DSLLM_R(op, bc, 36, 31, 18, 19) DSLLM_R(op, bc, 40, 30, 20, 21) DSLLM_R(op, bc, 44, 31, 22, 23)   \
  DSLLM_R(op, bc, 48, 30, 24, 25) DSLLM_R(op, bc, 52, 31, 26, 27)
#define DSLLM_ZERO(i) "vpxord %%zmm" #i ", %%zmm" #i ", %%zmm" #i "\n\t"
#define DSLLM_SAVE(i) "vmovaps %%zmm" #i ", " #i "*64(%[t])\n\t"
#define DSLLM_KLOOP(op, bc)                                                                       \
  DSLLM_ZERO(0) DSLLM_ZERO(1) DSLLM_ZERO(2) DSLLM_ZERO(3) DSLLM_ZERO(4) DSLLM_ZERO(5) DSLLM_ZERO(6) \
  DSLLM_ZERO(7) DSLLM_ZERO(8) DSLLM_ZERO(9) DSLLM_ZERO(10) DSLLM_ZERO(11) DSLLM_ZERO(12)            \
  DSLLM_ZERO(13) DSLLM_ZERO(14) DSLLM_ZERO(15) DSLLM_ZERO(16) DSLLM_ZERO(17) DSLLM_ZERO(18)         \
  DSLLM_ZERO(19) DSLLM_ZERO(20) DSLLM_ZERO(21) DSLLM_ZERO(22) DSLLM_ZERO(23) DSLLM_ZERO(24)         \
  DSLLM_ZERO(25) DSLLM_ZERO(26) DSLLM_ZERO(27)                                                     \
  "test %[k], %[k]\n\t"                                                                            \
  "jz 2f\n\t"                                                                                      \
  ".p2align 5\n"                                                                                   \
  "1:\n\t"                                                                                         \
  "vmovaps (%[b]), %%zmm28\n\t"                                                                    \
  "vmovaps 64(%[b]), %%zmm29\n\t"                                                                  \
  "prefetcht0 512(%[a])\n\t"                                                                       \
  DSLLM_ROWS(op, bc)                                                                               \
  "add $56, %[a]\n\t"                                                                              \
  "add $128, %[b]\n\t"                                                                             \
  "dec %[k]\n\t"                                                                                   \
  "jnz 1b\n"                                                                                       \
  "2:\n\t"                                                                                         \
  DSLLM_SAVE(0) DSLLM_SAVE(1) DSLLM_SAVE(2) DSLLM_SAVE(3) DSLLM_SAVE(4) DSLLM_SAVE(5) DSLLM_SAVE(6) \
  DSLLM_SAVE(7) DSLLM_SAVE(8) DSLLM_SAVE(9) DSLLM_SAVE(10) DSLLM_SAVE(11) DSLLM_SAVE(12)            \
  DSLLM_SAVE(13) DSLLM_SAVE(14) DSLLM_SAVE(15) DSLLM_SAVE(16) DSLLM_SAVE(17) DSLLM_SAVE(18)         \
  DSLLM_SAVE(19) DSLLM_SAVE(20) DSLLM_SAVE(21) DSLLM_SAVE(22) DSLLM_SAVE(23) DSLLM_SAVE(24)         \
  DSLLM_SAVE(25) DSLLM_SAVE(26) DSLLM_SAVE(27)
#define DSLLM_CLOBBERS                                                                           \
  "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",  \
      "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19",     \
      "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29",     \
      "xmm30", "xmm31"

static_assert(kMR == 14 && kNV == 2, "the assembly k loop is written for 14 x 32 tiles");

#ifndef DSLLM_CPF
#define DSLLM_CPF _MM_HINT_T1
#endif

// C tile update from the accumulator tile: C = alpha*acc + beta*C on rows < mr, columns < nr.
static inline void UpdateC(const float* tile, float* C, int64_t ldc, int mr, int nr, float alpha, float beta) {
  __m512 va = _mm512_set1_ps(alpha);
  __m512 acc[kNV];
  for (int i = 0; i < kMR && i < mr; ++i) {
    for (int v = 0; v < kNV; ++v) acc[v] = _mm512_load_ps(tile + i * kNR + 16 * v);
    StoreRow<kNV>(C + i * ldc, acc, nr, va, beta);
  }
}

// f32: A panel [kc][14], B panel [kc][32]; writes rows < mr, columns < nr of C.
static void KernelF32(int64_t kc, const float* A, const float* B, float* C, int64_t ldc,
                      int mr, int nr, float alpha, float beta) {
  alignas(64) float tile[kMR * kNR];
  for (int i = 0; i < kMR && i < mr; ++i) {
    _mm_prefetch((const char*)(C + i * ldc), DSLLM_CPF);
    _mm_prefetch((const char*)(C + i * ldc + kNR - 1), DSLLM_CPF);
  }
  asm volatile(DSLLM_KLOOP("vfmadd231ps", "vbroadcastss")
               : [a] "+r"(A), [b] "+r"(B), [k] "+r"(kc)
               : [t] "r"(tile)
               : DSLLM_CLOBBERS);
  UpdateC(tile, C, ldc, mr, nr, alpha, beta);
}

#if defined(__AVX512BF16__)
// bf16: A panel [kc2][14] of u32 pairs, B panel [kc2][32] of u32 pairs (kc2 = k pairs).
static void KernelBf16(int64_t kc2, const uint32_t* A, const uint32_t* B, float* C, int64_t ldc,
                       int mr, int nr, float alpha, float beta) {
  alignas(64) float tile[kMR * kNR];
  for (int i = 0; i < kMR && i < mr; ++i) {
    _mm_prefetch((const char*)(C + i * ldc), DSLLM_CPF);
    _mm_prefetch((const char*)(C + i * ldc + kNR - 1), DSLLM_CPF);
  }
  asm volatile(DSLLM_KLOOP("vdpbf16ps", "vpbroadcastd")
               : [a] "+r"(A), [b] "+r"(B), [k] "+r"(kc2)
               : [t] "r"(tile)
               : DSLLM_CLOBBERS);
  UpdateC(tile, C, ldc, mr, nr, alpha, beta);
}
#endif  // __AVX512BF16__

#else  // portable fallback
#if defined(__AVX2__)
constexpr int kMR = 6;
constexpr int kNR = 16;
#else
constexpr int kMR = 4;
constexpr int kNR = 8;
#endif

template <int MR, int NR>
static void KernelF32Generic(int64_t kc, const float* __restrict A, const float* __restrict B, float* C, int64_t ldc,
                             int mr, int nr, float alpha, float beta) {
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i) {
      float a = A[i];
      for (int j = 0; j < NR; ++j) acc[i][j] += a * B[j];
    }
    A += MR;
    B += NR;
  }
  for (int i = 0; i < mr && i < MR; ++i)
    for (int j = 0; j < nr && j < NR; ++j) {
      float r = alpha * acc[i][j];
      C[i * ldc + j] = beta == 0.0f ? r : r + beta * C[i * ldc + j];
    }
}
#endif

}  // namespace gemm
}  // namespace dsllm
