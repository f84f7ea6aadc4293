// The GEMM driver (GotoBLAS/BLIS blocking), without the N-API layer so it can be built standalone.
//
// For one product:
//   1. op(B) is packed whole, by all threads, into NR-column panels (f32, or bf16 pairs) that
//      every thread then reads: nothing is packed twice.
//   2. C is cut into tasks (row blocks; column chunks too when rows run short) that the threads
//      take from a shared counter. In its rectangle a thread walks blocks of MC rows; for each k
//      block of KC it packs that MC x KC block of op(A) into its own buffer (sized for the 1 MiB
//      L2), then for each NR panel of B (kc x NR, 64 KiB, streamed from L2) runs the micro-kernel
//      down the MC/MR row panels. k blocks after the first accumulate into C (beta = 1).
// A batch of small products runs one product per thread instead; a few rows of C (m <= kSmallM)
// take the direct path of gemm_small.h. Every C element is summed in the same order whatever
// the thread count and schedule, so results are reproducible bit for bit.
#pragma once
#include <algorithm>
#include <atomic>
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
#ifndef DSLLM_GEMM_TUNE
// The B micro-panel (kc x 32: 64 KiB) is read from L2 rather than kept in L1: measured faster
// than kc = 256 (32 KiB, L1-resident) because C is loaded and stored half as often.
constexpr int64_t kKcF32 = 512;   // B micro-panel 512 x 32 f32 = 64 KiB
constexpr int64_t kKcBf16 = 1024; // B micro-panel 512 pairs x 32 = 64 KiB
constexpr int64_t kMcPanels = 24; // A block 336 x 512 f32 = 672 KiB of the 1 MiB L2
#else  // standalone tuning builds read the blocking from the environment
static int64_t TuneEnv(const char* name, int64_t dflt) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : dflt;
}
static const int64_t kKcF32 = TuneEnv("KCF32", 512), kKcBf16 = TuneEnv("KCBF16", 1024), kMcPanels = TuneEnv("MCP", 24);
#endif
constexpr double kParFlops = 4e6;      // below this a product runs on one thread
constexpr double kParBytes = 512e3;    // ... unless the small-m path streams this much of op(B)
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
static bool GemmSmall(const One& p, bool par) {
  bool round = p.bf16;
  float* a = (float*)tlsSmall.Get(sizeof(float) * p.m * p.k + 64);
  if (!a) return false;
  for (int64_t r = 0; r < p.m; ++r)
    for (int64_t kk = 0; kk < p.k; ++kk) {
      float v = p.transA ? SrcAt(p.a, kk, r) : SrcAt(p.a, r, kk);
      a[r * p.k + kk] = round ? Bf16ToF32(RoundBf16(v)) : v;
    }
  bool roundB = round && !p.b.bf16;
  int64_t chunks = (p.n + kSmallCols - 1) / kSmallCols;
  // worth a second thread when the flops or the bytes of op(B) streamed are large enough
  double bytesB = (double)p.k * p.n * (p.b.bf16 ? 2 : 4);
  bool big = 2.0 * p.m * p.n * p.k >= kParFlops || bytesB >= kParBytes;
  int64_t grain = big ? 1 : chunks;
  Run(par, chunks, grain, [&](int64_t b, int64_t e, int) {
    int64_t j0 = b * kSmallCols, j1 = std::min(p.n, e * kSmallCols);
    for (int64_t r = 0; r < p.m; r += 4)  // groups of up to 4 rows, each reading op(B) once
      SmallRows((int)std::min<int64_t>(4, p.m - r), a + r * p.k, p.k, p.b, p.transB, roundB, p.c + r * p.ldc, p.ldc,
                j0, j1, p.alpha, p.beta);
  });
  return true;
}

// ---- packed path ----------------------------------------------------------------------------
struct Plan {
  bool bf16k;         // vdpbf16ps kernel on bf16 pair panels
  bool round;         // f32 kernel on values rounded to bf16 (bf16 mode without the bf16 kernel)
  int64_t kcb;        // k per block
  int64_t mP, nP;     // row / column panels
  void* bp;           // packed op(B): panel j at bp + j*bstride
  int64_t bstride;    // 4-byte units
};

static inline int64_t Units(const Plan& pl, int64_t kc) { return pl.bf16k ? (kc + 1) / 2 : kc; }

// Row panels [ir0, ir1) of op(A) for k in [k0, k0 + kc), into dst (panels of u*MR units).
static void PackBlockA(const One& p, const Plan& pl, void* dst, int64_t k0, int64_t kc, int64_t ir0, int64_t ir1) {
  PackPanels(dst, Units(pl, kc) * kMR, kMR, p.a, p.transA, pl.bf16k, pl.round, k0, kc, ir0 * kMR, p.m, ir1 - ir0);
}

// packed B of column panel j at k (k even in bf16)
static inline uint32_t* PackedB(const Plan& pl, int64_t j, int64_t k) {
  return (uint32_t*)pl.bp + j * pl.bstride + (pl.bf16k ? k / 2 : k) * kNR;
}

// Column panels [j0, j1) of op(B) for k in [k0, k0 + kc), into the shared buffer.
static void PackBlockB(const One& p, const Plan& pl, int64_t j0, int64_t j1, int64_t k0, int64_t kc) {
  PackPanels(PackedB(pl, j0, k0), pl.bstride, kNR, p.b, !p.transB, pl.bf16k, pl.round, k0, kc, j0 * kNR, p.n, j1 - j0);
}

// pf/ps: a stream to fetch into L2 during the k loop, ps bytes further each step (none: B's own
// stream, which is in cache already).
static inline void Kernel(const Plan& pl, int64_t units, const void* A, const void* B, float* C, int64_t ldc,
                          int mr, int nr, float alpha, float beta, const char* pf = nullptr, int64_t ps = 0) {
  if (!pf) pf = (const char*)B, ps = kNR * 4;
#if defined(__AVX512F__)
#if defined(__AVX512BF16__)
  if (pl.bf16k) {
    KernelAsm<true>(units, A, B, C, ldc, mr, nr, alpha, beta, pf, ps);
    return;
  }
#endif
  KernelAsm<false>(units, A, B, C, ldc, mr, nr, alpha, beta, pf, ps);
#else
  (void)pl, (void)pf, (void)ps;
  KernelF32Generic<kMR, kNR>(units, (const float*)A, (const float*)B, C, ldc, mr, nr, alpha, beta);
#endif
}

// Row panels [pm0, pm1) x column panels [pn0, pn1) of C over k in [kb, ke), on the calling thread.
static bool Rect(const One& p, const Plan& pl, int64_t pm0, int64_t pm1, int64_t pn0, int64_t pn1, int64_t kb,
                 int64_t ke) {
  if (pm0 >= pm1 || pn0 >= pn1) return true;
  int64_t nic = (pm1 - pm0 + kMcPanels - 1) / kMcPanels;
  int64_t mcP = (pm1 - pm0 + nic - 1) / nic;
  void* abuf = tlsPackA.Get(sizeof(uint32_t) * mcP * Units(pl, pl.kcb) * kMR + 64);
  if (!abuf) return false;
  for (int64_t ic = pm0; ic < pm1; ic += mcP) {
    int64_t icEnd = std::min(pm1, ic + mcP);
    for (int64_t k0 = kb; k0 < ke; k0 += pl.kcb) {
      int64_t kc = std::min(pl.kcb, ke - k0);
      int64_t u = Units(pl, kc);
      PackBlockA(p, pl, abuf, k0, kc, ic, icEnd);
      float beta = k0 == 0 ? p.beta : 1.0f;
      // The next B micro-panel is fetched into L2 a slice per micro-tile while this one is used:
      // on large products op(B) no longer fits in the last-level cache, and the first tile of
      // each panel would otherwise wait on memory. The micro-kernel issues the slice's prefetches
      // one per k step: issued in a burst before each tile they cost 3% at n = 4096 and 9% at
      // 1024 and 2048 (in-process A/B, 2 threads).
      int64_t panelLines = u * kNR * 4 / 64, tiles = icEnd - ic;
      int64_t linesPerTile = (panelLines + tiles - 1) / tiles;
      int64_t pfStep = (linesPerTile * 64 + u - 1) / u;  // bytes per k step
      for (int64_t jr = pn0; jr < pn1; ++jr) {
        const uint32_t* bpanel = PackedB(pl, jr, k0);
        const char* nextB = jr + 1 < pn1 ? (const char*)PackedB(pl, jr + 1, k0) : nullptr;
        int nr = (int)std::min<int64_t>(kNR, p.n - jr * kNR);
        for (int64_t ir = ic; ir < icEnd; ++ir) {
          int mr = (int)std::min<int64_t>(kMR, p.m - ir * kMR);
          const char* pf = nextB ? nextB + std::min(panelLines - 1, (ir - ic) * linesPerTile) * 64 : nullptr;
          Kernel(pl, u, (const uint32_t*)abuf + (ir - ic) * u * kMR, bpanel, p.c + ir * kMR * p.ldc + jr * kNR, p.ldc,
                 mr, nr, p.alpha, beta, pf, pfStep);
        }
      }
    }
  }
  return true;
}

// Packs op(B) for k in [kb, ke) (unless packB is false) and computes C over that k range, on T
// threads. One parallel region, one shared task counter: first the B packing tasks, then the C
// tasks, which start once every B task has finished. Threads take work from the counter rather
// than fixed shares: on a busy machine a thread that loses its core for a while no longer holds
// the other one up. Which thread computes a tile never changes how it is computed, so the
// result does not depend on the schedule.
static bool Region(const One& p, const Plan& pl, int T, int64_t kb, int64_t ke, bool packB) {
  // B tasks: direct storage is packed a few whole rows at a time (long sequential reads the
  // prefetcher follows), transposed storage one panel at a time over the whole k range.
  bool bDirect = !p.transB;
  int64_t groupP = bDirect ? pl.nP : 1, kChunk = bDirect ? 32 : ke - kb;
  int64_t nGroups = (pl.nP + groupP - 1) / groupP, nChunks = (ke - kb + kChunk - 1) / kChunk;
  int64_t nPack = packB ? nGroups * nChunks : 0;
  auto packTask = [&](int64_t t) {
    int64_t g = t / nChunks, k0 = kb + (t % nChunks) * kChunk;
    PackBlockB(p, pl, g * groupP, std::min(pl.nP, (g + 1) * groupP), k0, std::min(kChunk, ke - k0));
  };
  if (T <= 1) {
    for (int64_t t = 0; t < nPack; ++t) packTask(t);
    return Rect(p, pl, 0, pl.mP, 0, pl.nP, kb, ke);
  }
  // C tasks: row blocks of at most kMcPanels panels (fewer, down to 8, to give each thread ~4
  // tasks), and only when rows run short, column chunks (of at least 4 panels; each chunk packs
  // its row block of A again).
  int64_t want = 4 * T;
  int64_t rowBlocks = std::max((pl.mP + kMcPanels - 1) / kMcPanels, std::min(want, std::max<int64_t>(1, pl.mP / 8)));
  // equal tasks: a count that is not a multiple of T leaves one thread finishing alone
  rowBlocks = std::min(pl.mP, (rowBlocks + T - 1) / T * T);
  int64_t colChunks = 1;
  if (rowBlocks < want) colChunks = std::max<int64_t>(1, std::min((want + rowBlocks - 1) / rowBlocks, pl.nP / 4));
  int64_t total = nPack + rowBlocks * colChunks;
  std::atomic<int64_t> next{0}, packed{0};
  std::atomic<bool> ok{true};
  parallel_for(T, 1, [&](int64_t, int64_t, int) {
    for (int64_t t; (t = next.fetch_add(1)) < total;) {
      if (t < nPack) {
        packTask(t);
        packed.fetch_add(1, std::memory_order_release);
        continue;
      }
      while (packed.load(std::memory_order_acquire) < nPack) _mm_pause();
      t -= nPack;
      int64_t r0, r1, c0, c1;
      SliceOf(pl.mP, (int)rowBlocks, (int)(t / colChunks), &r0, &r1);
      SliceOf(pl.nP, (int)colChunks, (int)(t % colChunks), &c0, &c1);
      if (!Rect(p, pl, r0, r1, c0, c1, kb, ke)) ok = false;
    }
  });
  return ok;
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
  pl.mP = (p.m + kMR - 1) / kMR;
  pl.nP = (p.n + kNR - 1) / kNR;
  int T = par ? std::min(num_threads(), 64) : 1;
  if (2.0 * p.m * p.n * p.k < kParFlops) T = 1;

  // (Packing and using op(B) one k block at a time, so that a large packed B stays in cache,
  // measured no faster here and slower on a loaded machine: each block adds a synchronization.)
  pl.bstride = Units(pl, p.k) * kNR;
  pl.bp = tlsPackB.Get(sizeof(uint32_t) * pl.nP * pl.bstride + 64);
  if (!pl.bp) return false;
  return Region(p, pl, T, 0, p.k, !reuseB);
}

// false: out of memory for scratch
static bool GemmOne(const One& p, bool par, bool reuseB) {
  if (p.m == 0 || p.n == 0) return true;
  if (p.k == 0 || p.alpha == 0.0f) {  // as BLAS: A and B are not read
    ScaleC(p);
    return true;
  }
  if (p.m <= kSmallM || (p.m <= kSmallMNN && !p.transB)) return GemmSmall(p, par);
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
    // one product at a time per thread, taken from a shared counter (see Region)
    std::atomic<int64_t> next{0};
    std::atomic<bool> oks{true};
    parallel_for(std::min<int64_t>(num_threads(), g.batch), 1, [&](int64_t, int64_t, int) {
      bool packedB = false;  // a shared B (stride 0) is packed by each thread's first product only
      for (int64_t i; (i = next.fetch_add(1)) < g.batch;) {
        if (!GemmOne(item(i), false, packedB && g.strideB == 0)) oks = false;
        packedB = true;
      }
    });
    ok = oks;
  } else {
    for (int64_t i = 0; i < g.batch; ++i) ok = GemmOne(item(i), g.threaded, i > 0 && g.strideB == 0) && ok;
  }
  return ok;
}

}  // namespace gemm
}  // namespace dsllm
