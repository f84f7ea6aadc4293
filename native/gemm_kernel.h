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

// The k loop in assembly: gcc keeps a 28-accumulator array in registers only sometimes (it
// spilled it here), and this loop is the whole GEMM. For R rows (R <= 14; fewer for the last row
// panel of C, so a ragged edge costs only its rows), zmm 2i and 2i+1 accumulate row i, zmm28/29
// hold the B row, zmm30/31 alternate as the broadcast A value. The A panel keeps its 14-row
// stride. The accumulators are written to `tile` ([14][32] floats, 64-byte aligned).
#define DSLLM_Z0 "vpxord %%zmm0, %%zmm0, %%zmm0\n\tvpxord %%zmm1, %%zmm1, %%zmm1\n\t"
#define DSLLM_F0(op, bc) bc " 0(%[a]), %%zmm30\n\t" op " %%zmm28, %%zmm30, %%zmm0\n\t" op " %%zmm29, %%zmm30, %%zmm1\n\t"
#define DSLLM_S0 "vmovaps %%zmm0, 0(%[t])\n\tvmovaps %%zmm1, 64(%[t])\n\t"
#define DSLLM_Z1 "vpxord %%zmm2, %%zmm2, %%zmm2\n\tvpxord %%zmm3, %%zmm3, %%zmm3\n\t"
#define DSLLM_F1(op, bc) bc " 4(%[a]), %%zmm31\n\t" op " %%zmm28, %%zmm31, %%zmm2\n\t" op " %%zmm29, %%zmm31, %%zmm3\n\t"
#define DSLLM_S1 "vmovaps %%zmm2, 128(%[t])\n\tvmovaps %%zmm3, 192(%[t])\n\t"
#define DSLLM_Z2 "vpxord %%zmm4, %%zmm4, %%zmm4\n\tvpxord %%zmm5, %%zmm5, %%zmm5\n\t"
#define DSLLM_F2(op, bc) bc " 8(%[a]), %%zmm30\n\t" op " %%zmm28, %%zmm30, %%zmm4\n\t" op " %%zmm29, %%zmm30, %%zmm5\n\t"
#define DSLLM_S2 "vmovaps %%zmm4, 256(%[t])\n\tvmovaps %%zmm5, 320(%[t])\n\t"
#define DSLLM_Z3 "vpxord %%zmm6, %%zmm6, %%zmm6\n\tvpxord %%zmm7, %%zmm7, %%zmm7\n\t"
#define DSLLM_F3(op, bc) bc " 12(%[a]), %%zmm31\n\t" op " %%zmm28, %%zmm31, %%zmm6\n\t" op " %%zmm29, %%zmm31, %%zmm7\n\t"
#define DSLLM_S3 "vmovaps %%zmm6, 384(%[t])\n\tvmovaps %%zmm7, 448(%[t])\n\t"
#define DSLLM_Z4 "vpxord %%zmm8, %%zmm8, %%zmm8\n\tvpxord %%zmm9, %%zmm9, %%zmm9\n\t"
#define DSLLM_F4(op, bc) bc " 16(%[a]), %%zmm30\n\t" op " %%zmm28, %%zmm30, %%zmm8\n\t" op " %%zmm29, %%zmm30, %%zmm9\n\t"
#define DSLLM_S4 "vmovaps %%zmm8, 512(%[t])\n\tvmovaps %%zmm9, 576(%[t])\n\t"
#define DSLLM_Z5 "vpxord %%zmm10, %%zmm10, %%zmm10\n\tvpxord %%zmm11, %%zmm11, %%zmm11\n\t"
#define DSLLM_F5(op, bc) bc " 20(%[a]), %%zmm31\n\t" op " %%zmm28, %%zmm31, %%zmm10\n\t" op " %%zmm29, %%zmm31, %%zmm11\n\t"
#define DSLLM_S5 "vmovaps %%zmm10, 640(%[t])\n\tvmovaps %%zmm11, 704(%[t])\n\t"
#define DSLLM_Z6 "vpxord %%zmm12, %%zmm12, %%zmm12\n\tvpxord %%zmm13, %%zmm13, %%zmm13\n\t"
#define DSLLM_F6(op, bc) bc " 24(%[a]), %%zmm30\n\t" op " %%zmm28, %%zmm30, %%zmm12\n\t" op " %%zmm29, %%zmm30, %%zmm13\n\t"
#define DSLLM_S6 "vmovaps %%zmm12, 768(%[t])\n\tvmovaps %%zmm13, 832(%[t])\n\t"
#define DSLLM_Z7 "vpxord %%zmm14, %%zmm14, %%zmm14\n\tvpxord %%zmm15, %%zmm15, %%zmm15\n\t"
#define DSLLM_F7(op, bc) bc " 28(%[a]), %%zmm31\n\t" op " %%zmm28, %%zmm31, %%zmm14\n\t" op " %%zmm29, %%zmm31, %%zmm15\n\t"
#define DSLLM_S7 "vmovaps %%zmm14, 896(%[t])\n\tvmovaps %%zmm15, 960(%[t])\n\t"
#define DSLLM_Z8 "vpxord %%zmm16, %%zmm16, %%zmm16\n\tvpxord %%zmm17, %%zmm17, %%zmm17\n\t"
#define DSLLM_F8(op, bc) bc " 32(%[a]), %%zmm30\n\t" op " %%zmm28, %%zmm30, %%zmm16\n\t" op " %%zmm29, %%zmm30, %%zmm17\n\t"
#define DSLLM_S8 "vmovaps %%zmm16, 1024(%[t])\n\tvmovaps %%zmm17, 1088(%[t])\n\t"
#define DSLLM_Z9 "vpxord %%zmm18, %%zmm18, %%zmm18\n\tvpxord %%zmm19, %%zmm19, %%zmm19\n\t"
#define DSLLM_F9(op, bc) bc " 36(%[a]), %%zmm31\n\t" op " %%zmm28, %%zmm31, %%zmm18\n\t" op " %%zmm29, %%zmm31, %%zmm19\n\t"
#define DSLLM_S9 "vmovaps %%zmm18, 1152(%[t])\n\tvmovaps %%zmm19, 1216(%[t])\n\t"
#define DSLLM_Z10 "vpxord %%zmm20, %%zmm20, %%zmm20\n\tvpxord %%zmm21, %%zmm21, %%zmm21\n\t"
#define DSLLM_F10(op, bc) bc " 40(%[a]), %%zmm30\n\t" op " %%zmm28, %%zmm30, %%zmm20\n\t" op " %%zmm29, %%zmm30, %%zmm21\n\t"
#define DSLLM_S10 "vmovaps %%zmm20, 1280(%[t])\n\tvmovaps %%zmm21, 1344(%[t])\n\t"
#define DSLLM_Z11 "vpxord %%zmm22, %%zmm22, %%zmm22\n\tvpxord %%zmm23, %%zmm23, %%zmm23\n\t"
#define DSLLM_F11(op, bc) bc " 44(%[a]), %%zmm31\n\t" op " %%zmm28, %%zmm31, %%zmm22\n\t" op " %%zmm29, %%zmm31, %%zmm23\n\t"
#define DSLLM_S11 "vmovaps %%zmm22, 1408(%[t])\n\tvmovaps %%zmm23, 1472(%[t])\n\t"
#define DSLLM_Z12 "vpxord %%zmm24, %%zmm24, %%zmm24\n\tvpxord %%zmm25, %%zmm25, %%zmm25\n\t"
#define DSLLM_F12(op, bc) bc " 48(%[a]), %%zmm30\n\t" op " %%zmm28, %%zmm30, %%zmm24\n\t" op " %%zmm29, %%zmm30, %%zmm25\n\t"
#define DSLLM_S12 "vmovaps %%zmm24, 1536(%[t])\n\tvmovaps %%zmm25, 1600(%[t])\n\t"
#define DSLLM_Z13 "vpxord %%zmm26, %%zmm26, %%zmm26\n\tvpxord %%zmm27, %%zmm27, %%zmm27\n\t"
#define DSLLM_F13(op, bc) bc " 52(%[a]), %%zmm31\n\t" op " %%zmm28, %%zmm31, %%zmm26\n\t" op " %%zmm29, %%zmm31, %%zmm27\n\t"
#define DSLLM_S13 "vmovaps %%zmm26, 1664(%[t])\n\tvmovaps %%zmm27, 1728(%[t])\n\t"
#define DSLLM_L0 "vmovaps 0(%[t]), %%zmm0\n\tvmovaps 64(%[t]), %%zmm1\n\t"
#define DSLLM_L1 "vmovaps 128(%[t]), %%zmm2\n\tvmovaps 192(%[t]), %%zmm3\n\t"
#define DSLLM_L2 "vmovaps 256(%[t]), %%zmm4\n\tvmovaps 320(%[t]), %%zmm5\n\t"
#define DSLLM_L3 "vmovaps 384(%[t]), %%zmm6\n\tvmovaps 448(%[t]), %%zmm7\n\t"
#define DSLLM_L4 "vmovaps 512(%[t]), %%zmm8\n\tvmovaps 576(%[t]), %%zmm9\n\t"
#define DSLLM_L5 "vmovaps 640(%[t]), %%zmm10\n\tvmovaps 704(%[t]), %%zmm11\n\t"
#define DSLLM_L6 "vmovaps 768(%[t]), %%zmm12\n\tvmovaps 832(%[t]), %%zmm13\n\t"
#define DSLLM_L7 "vmovaps 896(%[t]), %%zmm14\n\tvmovaps 960(%[t]), %%zmm15\n\t"
#define DSLLM_L8 "vmovaps 1024(%[t]), %%zmm16\n\tvmovaps 1088(%[t]), %%zmm17\n\t"
#define DSLLM_L9 "vmovaps 1152(%[t]), %%zmm18\n\tvmovaps 1216(%[t]), %%zmm19\n\t"
#define DSLLM_L10 "vmovaps 1280(%[t]), %%zmm20\n\tvmovaps 1344(%[t]), %%zmm21\n\t"
#define DSLLM_L11 "vmovaps 1408(%[t]), %%zmm22\n\tvmovaps 1472(%[t]), %%zmm23\n\t"
#define DSLLM_L12 "vmovaps 1536(%[t]), %%zmm24\n\tvmovaps 1600(%[t]), %%zmm25\n\t"
#define DSLLM_L13 "vmovaps 1664(%[t]), %%zmm26\n\tvmovaps 1728(%[t]), %%zmm27\n\t"
#define DSLLM_L_1 DSLLM_L0
#define DSLLM_L_2 DSLLM_L_1 DSLLM_L1
#define DSLLM_L_3 DSLLM_L_2 DSLLM_L2
#define DSLLM_L_4 DSLLM_L_3 DSLLM_L3
#define DSLLM_L_5 DSLLM_L_4 DSLLM_L4
#define DSLLM_L_6 DSLLM_L_5 DSLLM_L5
#define DSLLM_L_7 DSLLM_L_6 DSLLM_L6
#define DSLLM_L_8 DSLLM_L_7 DSLLM_L7
#define DSLLM_L_9 DSLLM_L_8 DSLLM_L8
#define DSLLM_L_10 DSLLM_L_9 DSLLM_L9
#define DSLLM_L_11 DSLLM_L_10 DSLLM_L10
#define DSLLM_L_12 DSLLM_L_11 DSLLM_L11
#define DSLLM_L_13 DSLLM_L_12 DSLLM_L12
#define DSLLM_L_14 DSLLM_L_13 DSLLM_L13
#define DSLLM_Z_1 DSLLM_Z0
#define DSLLM_F_1(op, bc) DSLLM_F0(op, bc)
#define DSLLM_S_1 DSLLM_S0
#define DSLLM_Z_2 DSLLM_Z_1 DSLLM_Z1
#define DSLLM_F_2(op, bc) DSLLM_F_1(op, bc) DSLLM_F1(op, bc)
#define DSLLM_S_2 DSLLM_S_1 DSLLM_S1
#define DSLLM_Z_3 DSLLM_Z_2 DSLLM_Z2
#define DSLLM_F_3(op, bc) DSLLM_F_2(op, bc) DSLLM_F2(op, bc)
#define DSLLM_S_3 DSLLM_S_2 DSLLM_S2
#define DSLLM_Z_4 DSLLM_Z_3 DSLLM_Z3
#define DSLLM_F_4(op, bc) DSLLM_F_3(op, bc) DSLLM_F3(op, bc)
#define DSLLM_S_4 DSLLM_S_3 DSLLM_S3
#define DSLLM_Z_5 DSLLM_Z_4 DSLLM_Z4
#define DSLLM_F_5(op, bc) DSLLM_F_4(op, bc) DSLLM_F4(op, bc)
#define DSLLM_S_5 DSLLM_S_4 DSLLM_S4
#define DSLLM_Z_6 DSLLM_Z_5 DSLLM_Z5
#define DSLLM_F_6(op, bc) DSLLM_F_5(op, bc) DSLLM_F5(op, bc)
#define DSLLM_S_6 DSLLM_S_5 DSLLM_S5
#define DSLLM_Z_7 DSLLM_Z_6 DSLLM_Z6
#define DSLLM_F_7(op, bc) DSLLM_F_6(op, bc) DSLLM_F6(op, bc)
#define DSLLM_S_7 DSLLM_S_6 DSLLM_S6
#define DSLLM_Z_8 DSLLM_Z_7 DSLLM_Z7
#define DSLLM_F_8(op, bc) DSLLM_F_7(op, bc) DSLLM_F7(op, bc)
#define DSLLM_S_8 DSLLM_S_7 DSLLM_S7
#define DSLLM_Z_9 DSLLM_Z_8 DSLLM_Z8
#define DSLLM_F_9(op, bc) DSLLM_F_8(op, bc) DSLLM_F8(op, bc)
#define DSLLM_S_9 DSLLM_S_8 DSLLM_S8
#define DSLLM_Z_10 DSLLM_Z_9 DSLLM_Z9
#define DSLLM_F_10(op, bc) DSLLM_F_9(op, bc) DSLLM_F9(op, bc)
#define DSLLM_S_10 DSLLM_S_9 DSLLM_S9
#define DSLLM_Z_11 DSLLM_Z_10 DSLLM_Z10
#define DSLLM_F_11(op, bc) DSLLM_F_10(op, bc) DSLLM_F10(op, bc)
#define DSLLM_S_11 DSLLM_S_10 DSLLM_S10
#define DSLLM_Z_12 DSLLM_Z_11 DSLLM_Z11
#define DSLLM_F_12(op, bc) DSLLM_F_11(op, bc) DSLLM_F11(op, bc)
#define DSLLM_S_12 DSLLM_S_11 DSLLM_S11
#define DSLLM_Z_13 DSLLM_Z_12 DSLLM_Z12
#define DSLLM_F_13(op, bc) DSLLM_F_12(op, bc) DSLLM_F12(op, bc)
#define DSLLM_S_13 DSLLM_S_12 DSLLM_S12
#define DSLLM_Z_14 DSLLM_Z_13 DSLLM_Z13
#define DSLLM_F_14(op, bc) DSLLM_F_13(op, bc) DSLLM_F13(op, bc)
#define DSLLM_S_14 DSLLM_S_13 DSLLM_S13
#define DSLLM_KLOOP(n, init, op, bc) \
  init##n                      \
  "test %[k], %[k]\n\t"        \
  "jz 2f\n\t"                  \
  ".p2align 5\n"               \
  "1:\n\t"                     \
  "vmovaps (%[b]), %%zmm28\n\t" \
  "vmovaps 64(%[b]), %%zmm29\n\t" \
  "prefetcht0 512(%[a])\n\t"   \
  "prefetcht1 (%[pf])\n\t"     \
  "add %[ps], %[pf]\n\t"        \
  DSLLM_F_##n(op, bc)          \
  "add $56, %[a]\n\t"          \
  "add $128, %[b]\n\t"         \
  "dec %[k]\n\t"               \
  "jnz 1b\n"                   \
  "2:\n\t"                     \
  DSLLM_S_##n
#define DSLLM_CLOBBERS                                                                           \
  "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",  \
      "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19",     \
      "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29",     \
      "xmm30", "xmm31"

// k loop of R rows: kc steps (f32) or k pairs (bf16) over 4-byte A and B elements. The
// accumulators start at zero, or with LOAD from `tile`. Each step also prefetches one line of a
// caller's stream into L2 (pf, advancing ps bytes per step).
template <int R, bool BF16, bool LOAD>
static void KLoop(int64_t kc, const void* A, const void* B, float* tile, const char* pf, int64_t ps);
#define DSLLM_KLOOP_ONE(n, bf16, load, init, op, bc)                                             \
  template <>                                                                                     \
  void KLoop<n, bf16, load>(int64_t kc, const void* A, const void* B, float* tile, const char* pf,  \
                            int64_t ps) {                                                         \
    asm volatile(DSLLM_KLOOP(n, init, op, bc)                                                     \
                 : [a] "+r"(A), [b] "+r"(B), [k] "+r"(kc), [pf] "+r"(pf)                           \
                 : [t] "r"(tile), [ps] "r"(ps)                                                     \
                 : DSLLM_CLOBBERS);                                                                \
  }
#if defined(__AVX512BF16__)
#define DSLLM_KLOOP_BF16(n)                                                    \
  DSLLM_KLOOP_ONE(n, true, false, DSLLM_Z_, "vdpbf16ps", "vpbroadcastd")      \
  DSLLM_KLOOP_ONE(n, true, true, DSLLM_L_, "vdpbf16ps", "vpbroadcastd")
#else
#define DSLLM_KLOOP_BF16(n)
#endif
#define DSLLM_KLOOP_DEF(n)                                                     \
  DSLLM_KLOOP_ONE(n, false, false, DSLLM_Z_, "vfmadd231ps", "vbroadcastss")   \
  DSLLM_KLOOP_ONE(n, false, true, DSLLM_L_, "vfmadd231ps", "vbroadcastss")    \
  DSLLM_KLOOP_BF16(n)
DSLLM_KLOOP_DEF(1) DSLLM_KLOOP_DEF(2) DSLLM_KLOOP_DEF(3) DSLLM_KLOOP_DEF(4) DSLLM_KLOOP_DEF(5)
DSLLM_KLOOP_DEF(6) DSLLM_KLOOP_DEF(7) DSLLM_KLOOP_DEF(8) DSLLM_KLOOP_DEF(9) DSLLM_KLOOP_DEF(10)
DSLLM_KLOOP_DEF(11) DSLLM_KLOOP_DEF(12) DSLLM_KLOOP_DEF(13) DSLLM_KLOOP_DEF(14)

static_assert(kMR == 14 && kNV == 2, "the assembly k loop is written for 14 x 32 tiles");

// C is prefetched twice: to L2 when a tile starts (the A and B streams would evict it from L1
// before the update), then for writing (prefetchw: the line arrives owned, so the stores of the
// update do not wait for a read-for-ownership) DSLLM_CTAIL steps before the end.
#ifndef DSLLM_CPF
#define DSLLM_CPF(p) __builtin_prefetch((p), 1, 3)
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

using KLoopFn = void (*)(int64_t, const void*, const void*, float*, const char*, int64_t);
template <bool BF16, bool LOAD>
static KLoopFn KLoopFor(int rows) {
  static const KLoopFn table[15] = {
      nullptr, KLoop<1, BF16, LOAD>, KLoop<2, BF16, LOAD>, KLoop<3, BF16, LOAD>, KLoop<4, BF16, LOAD>,
      KLoop<5, BF16, LOAD>, KLoop<6, BF16, LOAD>, KLoop<7, BF16, LOAD>, KLoop<8, BF16, LOAD>, KLoop<9, BF16, LOAD>,
      KLoop<10, BF16, LOAD>, KLoop<11, BF16, LOAD>, KLoop<12, BF16, LOAD>, KLoop<13, BF16, LOAD>, KLoop<14, BF16, LOAD>};
  return table[rows < 1 ? 1 : rows > 14 ? 14 : rows];
}

// Steps of k (or k pairs) left when C is prefetched: enough for a miss to L3 or DRAM to arrive,
// and late enough that the A and B streams of the k loop do not evict it again from L1.
#ifndef DSLLM_CTAIL
#define DSLLM_CTAIL 48
#endif

// A panel [units][14], B panel [units][32] of f32 (BF16: u32 pairs); writes rows < mr, columns < nr of C.
// pf/ps: the stream to fetch into L2 while the k loop runs, one line per step (see KLoop).
template <bool BF16>
static void KernelAsm(int64_t units, const void* A, const void* B, float* C, int64_t ldc, int mr, int nr, float alpha,
                      float beta, const char* pf, int64_t ps) {
  alignas(64) float tile[kMR * kNR];
  int64_t head = units > DSLLM_CTAIL ? units - DSLLM_CTAIL : 0;
  for (int i = 0; i < kMR && i < mr; ++i) {  // from L3/DRAM to L2 while the k loop runs
    _mm_prefetch((const char*)(C + i * ldc), _MM_HINT_T1);
    _mm_prefetch((const char*)(C + i * ldc + kNR - 1), _MM_HINT_T1);
  }
  if (head > 0) {
    if (mr >= kMR) KLoop<kMR, BF16, false>(head, A, B, tile, pf, ps);
    else KLoopFor<BF16, false>(mr)(head, A, B, tile, pf, ps);
  }
  for (int i = 0; i < kMR && i < mr; ++i) {
    DSLLM_CPF(C + i * ldc);
    DSLLM_CPF(C + i * ldc + kNR - 1);
  }
  const char* a = (const char*)A + head * kMR * 4;
  const char* b = (const char*)B + head * kNR * 4;
  if (head > 0) {
    if (mr >= kMR) KLoop<kMR, BF16, true>(units - head, a, b, tile, pf + head * ps, ps);
    else KLoopFor<BF16, true>(mr)(units - head, a, b, tile, pf + head * ps, ps);
  } else {
    if (mr >= kMR) KLoop<kMR, BF16, false>(units, a, b, tile, pf, ps);
    else KLoopFor<BF16, false>(mr)(units, a, b, tile, pf, ps);
  }
  UpdateC(tile, C, ldc, mr, nr, alpha, beta);
}

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
