// The GEMM driver (GotoBLAS/BLIS blocking), without the N-API layer so it can be built standalone.
//
// For one product:
//   1. op(B) is packed whole, in parallel, into NR-column panels (f32, or bf16 pairs) that every
//      thread then reads: nothing is packed twice.
//   2. C is cut into one rectangle per thread, along M when that balances (no duplicated work at
//      all) else along N. In its rectangle a thread walks blocks of MC rows; for each k block of KC
//      it packs that MC x KC block of op(A) into its own buffer (sized for the 1 MiB L2), then for
//      each NR panel of B (kc x NR, 32 KiB: stays in the 48 KiB L1) runs the micro-kernel down the
//      MC/MR row panels. k blocks after the first accumulate into C (beta = 1).
// A batch of small products runs one product per thread instead; m <= kSmallM takes the direct
// path of gemm_small.h. Every C element is summed in the same order whatever the thread count.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include "gemm.h"
#include "gemm_kernel.h"
#include "gemm_pack.h"
#include "gemm_small.h"
#include "parallel.h"

namespace dsllm {
namespace gemm {

#if defined(__AVX512F__) && defined(__AVX512BF16__)
constexpr bool kHaveBf16Kernel = true;
#else
constexpr bool kHaveBf16Kernel = false;
#endif

// Blocking (elements of k per block; row panels per A block). Tuned on Zen5 (48 KiB L1d, 1 MiB L2).
constexpr int64_t kKcF32 = 256;   // B micro-panel kc x 32 f32 = 32 KiB
constexpr int64_t kKcBf16 = 512;  // B micro-panel kc x 32 bf16 = 32 KiB
constexpr int64_t kMcPanels = 48; // A block 672 x 256 f32 = 672 KiB
constexpr double kParFlops = 1.5e6;    // below this a product runs on one thread
constexpr double kBatchParFlops = 2e7; // batched products smaller than this run one per thread

// Grow-only, 64-byte aligned scratch (2 MiB aligned with transparent huge pages when large).
struct Scratch {
  void* p = nullptr;
  size_t cap = 0;
  void* Get(size_t bytes) {
    if (bytes <= cap) return p;
    std::free(p);
    size_t align = bytes >= ((size_t)4 << 20) ? ((size_t)2 << 20) : 64;
    size_t sz = (bytes + align - 1) / align * align;
    p = std::aligned_alloc(align, sz);
    if (!p) {
      cap = 0;
      return nullptr;
    }
    cap = sz;
#ifdef MADV_HUGEPAGE
    if (align > 64) madvise(p, sz, MADV_HUGEPAGE);
#endif
    return p;
  }
  ~Scratch() { std::free(p); }
};
inline thread_local Scratch tlsPackA, tlsPackB, tlsSmall;

struct One {  // one product of the batch
  int64_t m, n, k;
  Src a, b;
  bool transA, transB;
  float* c;
  int64_t ldc;
  float alpha, beta;
  bool bf16;
};

static void ScaleC(const One& p) {
  for (int64_t i = 0; i < p.m; ++i) {
    float* c = p.c + i * p.ldc;
    if (p.beta == 0.0f) std::memset(c, 0, sizeof(float) * p.n);
    else if (p.beta != 1.0f)
      for (int64_t j = 0; j < p.n; ++j) c[j] *= p.beta;
  }
}

template <typename F>
static void Run(bool par, int64_t n, int64_t grain, F&& fn) {
  if (!par || n <= grain) {
    if (n > 0) fn(0, n, 0);
  } else {
    parallel_for(n, grain, [&](int64_t b, int64_t e, int t) { fn(b, e, t); });
  }
}

static void SliceOf(int64_t n, int parts, int i, int64_t* b, int64_t* e) {
  int64_t base = n / parts, rem = n % parts;
  *b = i * base + (i < rem ? i : rem);
  *e = *b + base + (i < rem ? 1 : 0);
}

// ---- small m --------------------------------------------------------------------------------
static void GemmSmall(const One& p, bool par) {
  bool round = p.bf16;
  float* a = (float*)tlsSmall.Get(sizeof(float) * p.m * p.k + 64);
  for (int64_t r = 0; r < p.m; ++r)
    for (int64_t kk = 0; kk < p.k; ++kk) {
      float v = p.transA ? SrcAt(p.a, kk, r) : SrcAt(p.a, r, kk);
      a[r * p.k + kk] = round ? Bf16ToF32(RoundBf16(v)) : v;
    }
  bool roundB = round && !p.b.bf16;
  int64_t chunks = (p.n + kSmallCols - 1) / kSmallCols;
  int64_t grain = std::max<int64_t>(1, (int64_t)(kParFlops / (2.0 * p.m * p.k * kSmallCols)));
  Run(par, chunks, grain, [&](int64_t b, int64_t e, int) {
    int64_t j0 = b * kSmallCols, j1 = std::min(p.n, e * kSmallCols);
    SmallRows((int)p.m, a, p.k, p.b, p.transB, roundB, p.c, p.ldc, j0, j1, p.alpha, p.beta);
  });
}

// ---- packed path ----------------------------------------------------------------------------
struct Plan {
  bool bf16k;         // vdpbf16ps kernel on bf16 pair panels
  bool round;         // f32 kernel on values rounded to bf16 (bf16 mode without the bf16 kernel)
  int64_t kcb;        // k per block
  int64_t kunits;     // k units (floats or pairs) per panel row count: k or ceil(k/2)
  int64_t mP, nP;     // row / column panels
  void* bp;           // packed op(B)
};

static inline int64_t Units(const Plan& pl, int64_t kc) { return pl.bf16k ? (kc + 1) / 2 : kc; }

static void PackPanelA(const One& p, const Plan& pl, void* dst, int64_t k0, int64_t kc, int64_t ir) {
  int w = (int)std::min<int64_t>(kMR, p.m - ir * kMR);
  if (pl.bf16k) PackBf16((uint32_t*)dst, kMR, p.a, p.transA, k0, kc, ir * kMR, w);
  else PackF32((float*)dst, kMR, p.a, pl.round, p.transA, k0, kc, ir * kMR, w);
}

static void PackPanelB(const One& p, const Plan& pl, int64_t jr) {
  int w = (int)std::min<int64_t>(kNR, p.n - jr * kNR);
  void* dst = (uint32_t*)pl.bp + jr * pl.kunits * kNR;
  if (pl.bf16k) PackBf16((uint32_t*)dst, kNR, p.b, !p.transB, 0, p.k, jr * kNR, w);
  else PackF32((float*)dst, kNR, p.b, pl.round, !p.transB, 0, p.k, jr * kNR, w);
}

static inline void Kernel(const Plan& pl, int64_t units, const void* A, const void* B, float* C, int64_t ldc,
                          int mr, int nr, float alpha, float beta) {
#if defined(__AVX512F__)
#if defined(__AVX512BF16__)
  if (pl.bf16k) {
    KernelBf16(units, (const uint32_t*)A, (const uint32_t*)B, C, ldc, mr, nr, alpha, beta);
    return;
  }
#endif
  KernelF32(units, (const float*)A, (const float*)B, C, ldc, mr, nr, alpha, beta);
#else
  (void)pl;
  KernelF32Generic<kMR, kNR>(units, (const float*)A, (const float*)B, C, ldc, mr, nr, alpha, beta);
#endif
}

// Rows panels [pm0, pm1) x column panels [pn0, pn1) of C, on the calling thread.
static bool Rect(const One& p, const Plan& pl, int64_t pm0, int64_t pm1, int64_t pn0, int64_t pn1) {
  if (pm0 >= pm1 || pn0 >= pn1) return true;
  int64_t nic = (pm1 - pm0 + kMcPanels - 1) / kMcPanels;
  int64_t mcP = (pm1 - pm0 + nic - 1) / nic;
  int64_t kcbU = Units(pl, pl.kcb);
  void* abuf = tlsPackA.Get(sizeof(uint32_t) * mcP * kcbU * kMR + 64);
  if (!abuf) return false;
  for (int64_t ic = pm0; ic < pm1; ic += mcP) {
    int64_t icEnd = std::min(pm1, ic + mcP);
    for (int64_t k0 = 0; k0 < p.k; k0 += pl.kcb) {
      int64_t kc = std::min(pl.kcb, p.k - k0);
      int64_t u = Units(pl, kc);
      for (int64_t ir = ic; ir < icEnd; ++ir) PackPanelA(p, pl, (uint32_t*)abuf + (ir - ic) * u * kMR, k0, kc, ir);
      float beta = k0 == 0 ? p.beta : 1.0f;
      int64_t bOff = (pl.bf16k ? k0 / 2 : k0) * kNR;
      for (int64_t jr = pn0; jr < pn1; ++jr) {
        const uint32_t* bpanel = (const uint32_t*)pl.bp + jr * pl.kunits * kNR + bOff;
        int nr = (int)std::min<int64_t>(kNR, p.n - jr * kNR);
        for (int64_t ir = ic; ir < icEnd; ++ir) {
          int mr = (int)std::min<int64_t>(kMR, p.m - ir * kMR);
          Kernel(pl, u, (const uint32_t*)abuf + (ir - ic) * u * kMR, bpanel, p.c + ir * kMR * p.ldc + jr * kNR, p.ldc,
                 mr, nr, p.alpha, beta);
        }
      }
    }
  }
  return true;
}

// reuseB: this thread's packed-B scratch already holds op(B) of this product (shared B in a batch)
static bool GemmPacked(const One& p, bool par, bool reuseB) {
  Plan pl;
  pl.bf16k = kHaveBf16Kernel && (p.bf16 || (p.a.bf16 && p.b.bf16));  // bf16 x bf16 products are exact either way
  pl.round = p.bf16 && !pl.bf16k;
  int64_t kcb = pl.bf16k ? kKcBf16 : kKcF32;
  int64_t nk = (p.k + kcb - 1) / kcb;
  pl.kcb = (p.k + nk - 1) / nk;
  if (pl.bf16k) pl.kcb = (pl.kcb + 1) & ~(int64_t)1;  // blocks start on a k pair
  pl.kunits = pl.bf16k ? (p.k + 1) / 2 : p.k;
  pl.mP = (p.m + kMR - 1) / kMR;
  pl.nP = (p.n + kNR - 1) / kNR;
  pl.bp = tlsPackB.Get(sizeof(uint32_t) * pl.nP * pl.kunits * kNR + 64);
  if (!pl.bp) return false;

  int T = par ? num_threads() : 1;
  if (2.0 * p.m * p.n * p.k < kParFlops) T = 1;
  if (!reuseB) {
    int64_t grain = std::max<int64_t>(1, (int64_t)(65536 / std::max<int64_t>(1, p.k * kNR)));
    Run(T > 1, pl.nP, grain, [&](int64_t b, int64_t e, int) {
      for (int64_t j = b; j < e; ++j) PackPanelB(p, pl, j);
    });
  }
  if (T <= 1) return Rect(p, pl, 0, pl.mP, 0, pl.nP);

  // one rectangle per thread: split M unless splitting N balances better
  int64_t costM = (pl.mP + T - 1) / T * pl.nP, costN = pl.mP * ((pl.nP + T - 1) / T);
  bool splitM = costM <= costN;
  bool ok[64];
  int parts = std::min(T, 64);
  for (int i = 0; i < parts; ++i) ok[i] = true;
  parallel_for(parts, 1, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      int64_t s0, s1;
      SliceOf(splitM ? pl.mP : pl.nP, parts, (int)i, &s0, &s1);
      ok[i] = splitM ? Rect(p, pl, s0, s1, 0, pl.nP) : Rect(p, pl, 0, pl.mP, s0, s1);
    }
  });
  for (int i = 0; i < parts; ++i)
    if (!ok[i]) return false;
  return true;
}

// false: out of memory for scratch
static bool GemmOne(const One& p, bool par, bool reuseB) {
  if (p.m == 0 || p.n == 0) return true;
  if (p.k == 0 || p.alpha == 0.0f) {  // as BLAS: A and B are not read
    ScaleC(p);
    return true;
  }
  if (p.m <= kSmallM) {
    GemmSmall(p, par);
    return true;
  }
  return GemmPacked(p, par, reuseB);
}

static bool GemmAll(const GemmParams& g) {
  One p;
  p.m = g.m; p.n = g.n; p.k = g.k;
  p.a = Src{g.a, g.lda, g.aBf16};
  p.b = Src{g.b, g.ldb, g.bBf16};
  p.transA = g.transA; p.transB = g.transB;
  p.c = g.c; p.ldc = g.ldc;
  p.alpha = g.alpha; p.beta = g.beta;
  p.bf16 = g.bf16;
  auto item = [&](int64_t i) {
    One q = p;
    q.a.p = g.aBf16 ? (const void*)((const uint16_t*)g.a + i * g.strideA) : (const void*)((const float*)g.a + i * g.strideA);
    q.b.p = g.bBf16 ? (const void*)((const uint16_t*)g.b + i * g.strideB) : (const void*)((const float*)g.b + i * g.strideB);
    q.c = g.c + i * g.strideC;
    return q;
  };
  double flops = 2.0 * g.m * g.n * g.k;
  bool disjointC = g.m == 0 || g.n == 0 || g.strideC >= (g.m - 1) * g.ldc + g.n;
  bool ok = true;
  if (g.threaded && g.batch > 1 && disjointC && flops < kBatchParFlops && num_threads() > 1) {
    bool oks[64];
    int parts = std::min(num_threads(), 64);
    for (int i = 0; i < parts; ++i) oks[i] = true;
    parallel_for(g.batch, 1, [&](int64_t b, int64_t e, int t) {
      for (int64_t i = b; i < e; ++i)
        if (!GemmOne(item(i), false, i > b && g.strideB == 0)) oks[t % parts] = false;
    });
    for (int i = 0; i < parts; ++i) ok = ok && oks[i];
  } else {
    for (int64_t i = 0; i < g.batch; ++i) ok = GemmOne(item(i), g.threaded, i > 0 && g.strideB == 0) && ok;
  }
  return ok;
}

}  // namespace gemm
}  // namespace dsllm
