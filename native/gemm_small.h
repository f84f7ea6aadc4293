// GEMM for a few rows of C (m <= kSmallM: decode steps, gemv): packing op(B) would cost as much as
// the product, so op(B) is read straight from storage, once per group of up to 4 rows of C. The
// rows of op(A) are first copied to f32 (rounded to bf16 in bf16 mode); op(B) values are widened
// (and rounded in bf16 mode) as they are loaded. Products of bf16 values are exact in f32, so an
// f32 FMA here gives the same rounding as vdpbf16ps in the packed path.
#pragma once
#include <cstdint>
#include <immintrin.h>
#include "gemm_pack.h"

namespace dsllm {
namespace gemm {

// Direct path up to 8 rows (16 when op(B) is not transposed): measured faster than packing there.
constexpr int kSmallM = 8, kSmallMNN = 16;

#if defined(__AVX512F__)
template <bool BF>
static inline __m512 LoadB16(const void* base, int64_t off, __mmask16 m, bool round) {
  if (BF) {
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t*)base + off);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  __m512 x = _mm512_maskz_loadu_ps(m, (const float*)base + off);
  return round ? RoundVecBf16(x) : x;
}

static inline float Finish(float acc, float* c, float alpha, float beta) {
  return beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

// op(B) stored k x n (row kk contiguous in j): C[r, j0:j1] over column blocks of 16*V.
template <int R, int V, bool BF>
static void SmallNN(const float* a, int64_t k, const Src& B, bool round, float* C, int64_t ldc,
                    int64_t j0, int64_t j1, float alpha, float beta) {
  for (int64_t j = j0; j < j1; j += 16 * V) {
    __mmask16 mk[V];
    for (int v = 0; v < V; ++v) mk[v] = Mask16(j1 - j - 16 * v);
    __m512 acc[R][V];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < k; ++kk) {
      __m512 b[V];
      int64_t off = kk * B.ld + j;
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) b[v] = LoadB16<BF>(B.p, off + 16 * v, mk[v], round);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        __m512 av = _mm512_set1_ps(a[r * k + kk]);
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(av, b[v], acc[r][v]);
      }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v) {
        if (!mk[v]) break;
        float* c = C + r * ldc + j + 16 * v;
        __m512 x = _mm512_mul_ps(va, acc[r][v]);
        if (beta != 0.0f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk[v], c), x);
        _mm512_mask_storeu_ps(c, mk[v], x);
      }
  }
}

// op(B) stored n x k (row j contiguous in kk): dot products of R rows of A with J rows of B.
template <int R, int J, bool BF>
static void SmallNT(const float* a, int64_t k, const Src& B, bool round, float* C, int64_t ldc,
                    int64_t j0, int64_t j1, float alpha, float beta) {
  for (int64_t j = j0; j < j1; j += J) {
    int jn = (int)(j1 - j < J ? j1 - j : J);
    const void* rows[J];
    for (int t = 0; t < J; ++t) {
      int64_t jj = j + (t < jn ? t : jn - 1);  // past the end: repeat the last row, not stored
      rows[t] = BF ? (const void*)((const uint16_t*)B.p + jj * B.ld) : (const void*)((const float*)B.p + jj * B.ld);
    }
    __m512 acc[R][J];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < J; ++t) acc[r][t] = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < k; kk += 16) {
      __mmask16 m = Mask16(k - kk);
      __m512 av[R];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) av[r] = _mm512_maskz_loadu_ps(m, a + r * k + kk);
#pragma GCC unroll 8
      for (int t = 0; t < J; ++t) {
        __m512 b = LoadB16<BF>(rows[t], kk, m, round);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(av[r], b, acc[r][t]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < jn; ++t) {
        float* c = C + r * ldc + j + t;
        *c = Finish(_mm512_reduce_add_ps(acc[r][t]), c, alpha, beta);
      }
  }
}

template <bool BF>
static void SmallRowsT(int rows, const float* a, int64_t k, const Src& B, bool transB, bool round, float* C,
                       int64_t ldc, int64_t j0, int64_t j1, float alpha, float beta) {
  if (!transB) {
    switch (rows) {
      case 1: SmallNN<1, 8, BF>(a, k, B, round, C, ldc, j0, j1, alpha, beta); break;
      case 2: SmallNN<2, 6, BF>(a, k, B, round, C, ldc, j0, j1, alpha, beta); break;
      case 3: SmallNN<3, 4, BF>(a, k, B, round, C, ldc, j0, j1, alpha, beta); break;
      default: SmallNN<4, 4, BF>(a, k, B, round, C, ldc, j0, j1, alpha, beta); break;
    }
  } else {
    switch (rows) {
      case 1: SmallNT<1, 8, BF>(a, k, B, round, C, ldc, j0, j1, alpha, beta); break;
      case 2: SmallNT<2, 6, BF>(a, k, B, round, C, ldc, j0, j1, alpha, beta); break;
      case 3: SmallNT<3, 4, BF>(a, k, B, round, C, ldc, j0, j1, alpha, beta); break;
      default: SmallNT<4, 4, BF>(a, k, B, round, C, ldc, j0, j1, alpha, beta); break;
    }
  }
}
#endif  // __AVX512F__

// C[0:rows, j0:j1] = alpha * a[rows x k] . op(B)[:, j0:j1] + beta * C; rows <= kSmallM.
static void SmallRows(int rows, const float* a, int64_t k, const Src& B, bool transB, bool round, float* C,
                      int64_t ldc, int64_t j0, int64_t j1, float alpha, float beta) {
#if defined(__AVX512F__)
  if (B.bf16) SmallRowsT<true>(rows, a, k, B, transB, round, C, ldc, j0, j1, alpha, beta);
  else SmallRowsT<false>(rows, a, k, B, transB, round, C, ldc, j0, j1, alpha, beta);
#else
  for (int r = 0; r < rows; ++r)
    for (int64_t j = j0; j < j1; ++j) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < k; ++kk) {
        float b = transB ? SrcAt(B, j, kk) : SrcAt(B, kk, j);
        if (round) b = Bf16ToF32(RoundBf16(b));
        acc += a[r * k + kk] * b;
      }
      float* c = C + r * ldc + j;
      *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
    }
#endif
}

// How many columns one parallel work item covers (a multiple of every block width above).
constexpr int64_t kSmallCols = 384;

}  // namespace gemm
}  // namespace dsllm
