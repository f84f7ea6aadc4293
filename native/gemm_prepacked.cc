// GEMM against an inference weight matrix packed once: y [m, n] = x [m, k] · Wᵀ with W stored [n, k]
// (f32). The blocked GEMM packs op(B) = Wᵀ into kNR-column panels on every call; for a weight
// matrix used again every decode step that copy (read W, write the panels, read them back) costs
// more than the product itself at a few tens of rows. packWeights builds the panels once, in the
// layout the driver packs into (panel j: k rows of kNR floats, zero past n); gemmPrepacked runs the
// driver on them, so W is read once per call.
//
// Decode-sized products (A fits one of the driver's A blocks) pack A once and split by columns only:
// each thread takes chunks of B panels and runs all rows against them, so B is read once in all
// (the driver's own split also cuts rows when they are few, and each row block then reads all of B).
// Every element of y is summed in the same order whatever m, the thread count and the schedule (the
// k blocking depends on k only): a row's result does not depend on the rows batched with it.
// gcc 12 warns about the intrinsic headers' own _mm512_undefined_* temporaries (see gemm.cc).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <atomic>
#include "common.h"
#include "gemm_core.h"

namespace dsllm {
namespace {

constexpr const char* kPackOp = "packWeights";
constexpr const char* kOp = "gemmPrepacked";

int64_t PackedLen(int64_t n, int64_t k) { return (n + gemm::kNR - 1) / gemm::kNR * gemm::kNR * k; }

// Column panels [pn0, pn1) of C against the packed A (every row panel, every k block, see below): panel
// by panel, k blocks in order, so B is one sequential read (the hardware prefetcher follows it; the
// driver's explicit prefetch of the next panel, issued all at once for a single row panel, measured
// slower here). Each C element sums its k blocks in the driver's order: C = acc0, then C += acc1, …
void Panels(const gemm::One& p, const gemm::Plan& pl, const float* A, int64_t pn0, int64_t pn1) {
  using namespace gemm;
  for (int64_t jr = pn0; jr < pn1; ++jr) {
    int nr = (int)std::min<int64_t>(kNR, p.n - jr * kNR);
    for (int64_t k0 = 0; k0 < p.k; k0 += pl.kcb) {
      int64_t kc = std::min(pl.kcb, p.k - k0);
      const float* Ab = A + k0 * pl.mP * kMR;
      float beta = k0 == 0 ? p.beta : 1.0f;
      for (int64_t ip = 0; ip < pl.mP; ++ip) {
        int mr = (int)std::min<int64_t>(kMR, p.m - ip * kMR);
        Kernel(pl, kc, Ab + ip * kc * kMR, PackedB(pl, jr, k0), p.c + ip * kMR * p.ldc + jr * kNR, p.ldc, mr, nr, p.alpha, beta);
      }
    }
  }
}

#if defined(__AVX512F__)
#ifndef DSLLM_GEMV_PF
#define DSLLM_GEMV_PF 2048
#endif
// One-row products (m = 1): the micro-kernel's sums exactly (per k block,
// one accumulator per 16 columns, k in order, then C = acc, C += acc), reading x in place, with B
// prefetched DSLLM_GEMV_PF bytes ahead. B streams from memory here (decode reads each weight once
// per token) and the hardware prefetcher alone left the 1B model's decode products at ~37 GB/s;
// prefetching 2 KiB ahead measured 7–14% faster (1 and 4 KiB less, 8 KiB none).
// GemvBlock<P> runs P panels side by side: 2·P independent accumulator chains and P streams in
// flight. Each column still sums its k in order, so the result is the same bit for bit whatever P.
// On the 1B model's products (A/B in one process) 2 panels beat 1 by 12–23% when the memory system
// is contended and by 4–17% when it is not; 4 panels add 0–4%.
template <int P>
static inline void GemvBlock(const gemm::One& p, const gemm::Plan& pl, const float* x, __m512 va, int64_t jr) {
  using namespace gemm;
  for (int64_t k0 = 0; k0 < p.k; k0 += pl.kcb) {
    int64_t kc = std::min(pl.kcb, p.k - k0);
    const float* b[P];
    __m512 acc[2 * P];
    for (int q = 0; q < P; ++q) {
      b[q] = (const float*)PackedB(pl, jr + q, k0);
      acc[2 * q] = acc[2 * q + 1] = _mm512_setzero_ps();
    }
    const float* xk = x + k0;
    for (int64_t k = 0; k < kc; ++k) {
      __m512 a = _mm512_set1_ps(xk[k]);
      for (int q = 0; q < P; ++q) {
        _mm_prefetch((const char*)b[q] + DSLLM_GEMV_PF, _MM_HINT_T0);
        _mm_prefetch((const char*)b[q] + DSLLM_GEMV_PF + 64, _MM_HINT_T0);
        acc[2 * q] = _mm512_fmadd_ps(_mm512_load_ps(b[q]), a, acc[2 * q]);
        acc[2 * q + 1] = _mm512_fmadd_ps(_mm512_load_ps(b[q] + 16), a, acc[2 * q + 1]);
        b[q] += kNR;
      }
    }
    float beta = k0 == 0 ? p.beta : 1.0f;
    for (int q = 0; q < P; ++q)
      StoreRow<2>(p.c + (jr + q) * kNR, acc + 2 * q, (int)std::min<int64_t>(kNR, p.n - (jr + q) * kNR), va, beta);
  }
}

// One row (m = 1) against column panels [pn0, pn1), four, then two, then one panel at a time.
void GemvPanels(const gemm::One& p, const gemm::Plan& pl, int64_t pn0, int64_t pn1) {
  const float* x = (const float*)p.a.p;
  __m512 va = _mm512_set1_ps(p.alpha);
  int64_t jr = pn0;
  for (; jr + 3 < pn1; jr += 4) GemvBlock<4>(p, pl, x, va, jr);
  for (; jr + 1 < pn1; jr += 2) GemvBlock<2>(p, pl, x, va, jr);
  for (; jr < pn1; ++jr) GemvBlock<1>(p, pl, x, va, jr);
}
#endif

bool GemmWithPacked(const gemm::One& p, const float* packed) {
  using namespace gemm;
  Plan pl;
  pl.bf16k = false;
  pl.round = false;
  int64_t nk = (p.k + kKcF32 - 1) / kKcF32;
  pl.kcb = (p.k + nk - 1) / nk;
  pl.mP = (p.m + kMR - 1) / kMR;
  pl.nP = (p.n + kNR - 1) / kNR;
  pl.bstride = p.k * kNR;
  pl.bp = (void*)packed;
  int T = std::min(num_threads(), 64);
  double flops = 2.0 * p.m * p.n * p.k, bytesB = 4.0 * p.n * p.k;
  if (flops < kParFlops && bytesB < kParBytes) T = 1;
  if (pl.mP > kMcPanels) return Region(p, pl, T, 0, p.k, false);
  // A (at most kMcPanels row panels) packed once, by the calling thread: k block at k0 holds its
  // row panels kc·kMR floats apart, from k0·mP·kMR on (one row is read in place instead)
  float* A = (float*)tlsPackA.Get(sizeof(float) * p.k * pl.mP * kMR + 64);
  if (!A) return false;
  for (int64_t k0 = 0; k0 < p.k && p.m > 1; k0 += pl.kcb) {
    int64_t kc = std::min(pl.kcb, p.k - k0);
    PackPanels(A + k0 * pl.mP * kMR, kc * kMR, kMR, p.a, p.transA, false, false, k0, kc, 0, p.m, pl.mP);
  }
  auto run = [&](int64_t c0, int64_t c1) {
#if defined(__AVX512F__)
    if (p.m == 1) return GemvPanels(p, pl, c0, c1);
#endif
    Panels(p, pl, A, c0, c1);
  };
  if (T <= 1) {
    run(0, pl.nP);
    return true;
  }
  // column chunks of 2 panels (up to 32 per thread) taken from a shared counter: decode products
  // are memory-bound and short, and the thread that finishes first waits, on average, for half a
  // chunk of the other's
  int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(32 * T, pl.nP / 2));
  std::atomic<int64_t> next{0};
  parallel_for(T, 1, [&](int64_t, int64_t, int) {
    for (int64_t t; (t = next.fetch_add(1)) < chunks;) {
      int64_t c0, c1;
      SliceOf(pl.nP, (int)chunks, (int)t, &c0, &c1);
      run(c0, c1);
    }
  });
  return true;
}

// packWeights(dst: Float32Array [packedLen + 15], w: Float32Array [n*k], n, k) → offset: the panels
// start at dst[offset], the first 64-byte aligned element (the micro-kernel loads them aligned)
Napi::Value PackWeightsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(env, info.Length() == 4, kPackOp, "expects 4 arguments (dst, w, n, k)");
  auto dst = F32Arg(info, 0, kPackOp, "dst");
  auto w = F32Arg(info, 1, kPackOp, "w");
  int64_t n = IntArg(info, 2, kPackOp, "n"), k = IntArg(info, 3, kPackOp, "k");
  Require(env, n >= 1 && k >= 1 && n < ((int64_t)1 << 31) && k < ((int64_t)1 << 31), kPackOp, "n and k must be in [1, 2^31)");
  NeedLen(env, kPackOp, "w", w, n * k);
  Require(env, (uintptr_t)dst.ptr % 4 == 0, kPackOp, "dst must be 4-byte aligned");
  int64_t offset = (int64_t)(((64 - (uintptr_t)dst.ptr % 64) % 64) / 4);
  NeedLen(env, kPackOp, "dst", dst, offset + PackedLen(n, k));
  int64_t nP = (n + gemm::kNR - 1) / gemm::kNR;
  gemm::Src src{w.ptr, k, false};
  float* out = dst.ptr + offset;
  parallel_for(nP, std::max<int64_t>(1, 65536 / k), [&](int64_t b, int64_t e, int) {
    gemm::PackPanels(out + b * k * gemm::kNR, k * gemm::kNR, gemm::kNR, src, false, false, false, 0, k, b * gemm::kNR, n, e - b);
  });
  return Napi::Number::New(env, (double)offset);
}

// gemmPrepacked(y: Float32Array [m*n], x: Float32Array [m*k], packed: Float32Array (64-byte aligned), m, n, k)
Napi::Value GemmPrepackedJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(env, info.Length() == 6, kOp, "expects 6 arguments (y, x, packed, m, n, k)");
  auto y = F32Arg(info, 0, kOp, "y");
  auto x = F32Arg(info, 1, kOp, "x");
  auto packed = F32Arg(info, 2, kOp, "packed");
  int64_t m = IntArg(info, 3, kOp, "m"), n = IntArg(info, 4, kOp, "n"), k = IntArg(info, 5, kOp, "k");
  Require(env, n >= 1 && k >= 1 && n < ((int64_t)1 << 31) && k < ((int64_t)1 << 31) && m < ((int64_t)1 << 31), kOp, "m must be in [0, 2^31), n and k in [1, 2^31)");
  NeedLen(env, kOp, "y", y, m * n);
  NeedLen(env, kOp, "x", x, m * k);
  NeedLen(env, kOp, "packed", packed, PackedLen(n, k));
  Require(env, (uintptr_t)packed.ptr % 64 == 0, kOp, "packed must start 64-byte aligned (at the offset packWeights returned)");
  auto overlap = [](const float* a, int64_t na, const float* b, int64_t nb) { return a < b + nb && b < a + na; };
  Require(env, !overlap(y.ptr, m * n, x.ptr, m * k) && !overlap(y.ptr, m * n, packed.ptr, PackedLen(n, k)), kOp, "y must not overlap x or packed");
  if (m == 0) return env.Undefined();
  gemm::One p;
  p.m = m; p.n = n; p.k = k;
  p.a = gemm::Src{x.ptr, k, false};
  p.b = gemm::Src{nullptr, k, false};  // never read: the panels are given
  p.transA = false; p.transB = true;
  p.c = y.ptr; p.ldc = n;
  p.alpha = 1.0f; p.beta = 0.0f;
  p.bf16 = false;
  if (!GemmWithPacked(p, packed.ptr)) throw Napi::RangeError::New(env, "dsllm.gemmPrepacked: out of memory for packing buffers");
  return env.Undefined();
}

}  // namespace

void RegisterGemmPrepacked(Napi::Env env, Napi::Object exports) {
  exports.Set("packWeights", Napi::Function::New(env, PackWeightsJs, "packWeights"));
  exports.Set("gemmPrepacked", Napi::Function::New(env, GemmPrepackedJs, "gemmPrepacked"));
}

}  // namespace dsllm
