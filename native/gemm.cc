// GEMM binding: validates every argument, then runs the blocked driver of gemm_core.h.
// JS: gemm(c, a, b, m, n, k, transA, transB, alpha, beta, lda, ldb, ldc, batch, strideA, strideB, strideC, bf16)
// gcc 12 warns about the intrinsic headers' own _mm512_undefined_* temporaries (a known false
// positive); nothing in this code reads an uninitialized value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cmath>
#include <new>
#include "common.h"
#include "gemm_core.h"

namespace dsllm {

void Gemm(const GemmParams& p) {
  if (!gemm::GemmAll(p)) throw std::bad_alloc();
}

namespace {

constexpr const char* kOp = "gemm";

// Elements a (batch x rows x cols, leading dimension ld, batch stride) view needs; 0 when empty.
int64_t Extent(Napi::Env env, int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld, const char* name) {
  if (batch == 0 || rows == 0 || cols == 0) return 0;
  __int128 need = (__int128)(batch - 1) * stride + (__int128)(rows - 1) * ld + cols;
  if (need > ((__int128)1 << 52)) Fail(env, kOp, std::string("argument '") + name + "' view is impossibly large");
  return (int64_t)need;
}

bool Overlap(const void* p, int64_t bytesP, const void* q, int64_t bytesQ) {
  auto a = (uintptr_t)p, b = (uintptr_t)q;
  return bytesP > 0 && bytesQ > 0 && a < b + (uintptr_t)bytesQ && b < a + (uintptr_t)bytesP;
}

Napi::Value GemmJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(env, info.Length() == 18, kOp, "expects 18 arguments (c, a, b, m, n, k, transA, transB, alpha, beta, lda, ldb, ldc, batch, strideA, strideB, strideC, bf16)");
  auto c = F32Arg(info, 0, kOp, "c");
  auto a = FloatArg(info, 1, kOp, "a");
  auto b = FloatArg(info, 2, kOp, "b");
  GemmParams p;
  p.m = IntArg(info, 3, kOp, "m");
  p.n = IntArg(info, 4, kOp, "n");
  p.k = IntArg(info, 5, kOp, "k");
  p.transA = BoolArg(info, 6, kOp, "transA");
  p.transB = BoolArg(info, 7, kOp, "transB");
  double alpha = NumArg(info, 8, kOp, "alpha"), beta = NumArg(info, 9, kOp, "beta");
  p.lda = IntArg(info, 10, kOp, "lda");
  p.ldb = IntArg(info, 11, kOp, "ldb");
  p.ldc = IntArg(info, 12, kOp, "ldc");
  p.batch = IntArg(info, 13, kOp, "batch");
  p.strideA = IntArg(info, 14, kOp, "strideA");
  p.strideB = IntArg(info, 15, kOp, "strideB");
  p.strideC = IntArg(info, 16, kOp, "strideC");
  p.bf16 = BoolArg(info, 17, kOp, "bf16");
  const int64_t lim = (int64_t)1 << 40;
  Require(env, p.m < lim && p.n < lim && p.k < lim && p.batch < lim, kOp, "m, n, k and batch must be below 2^40");
  Require(env, std::isfinite(alpha) && std::isfinite(beta), kOp, "alpha and beta must be finite");
  p.alpha = (float)alpha;
  p.beta = (float)beta;
  int64_t aRows = p.transA ? p.k : p.m, aCols = p.transA ? p.m : p.k;
  int64_t bRows = p.transB ? p.n : p.k, bCols = p.transB ? p.k : p.n;
  Require(env, p.lda >= std::max<int64_t>(1, aCols), kOp, "lda (" + std::to_string(p.lda) + ") must be >= " + std::to_string(std::max<int64_t>(1, aCols)) + (p.transA ? " (m, transA)" : " (k)"));
  Require(env, p.ldb >= std::max<int64_t>(1, bCols), kOp, "ldb (" + std::to_string(p.ldb) + ") must be >= " + std::to_string(std::max<int64_t>(1, bCols)) + (p.transB ? " (k, transB)" : " (n)"));
  Require(env, p.ldc >= std::max<int64_t>(1, p.n), kOp, "ldc (" + std::to_string(p.ldc) + ") must be >= " + std::to_string(std::max<int64_t>(1, p.n)) + " (n)");
  int64_t needA = Extent(env, p.batch, p.strideA, aRows, aCols, p.lda, "a");
  int64_t needB = Extent(env, p.batch, p.strideB, bRows, bCols, p.ldb, "b");
  int64_t needC = Extent(env, p.batch, p.strideC, p.m, p.n, p.ldc, "c");
  NeedLen(env, kOp, "a", a, needA);
  NeedLen(env, kOp, "b", b, needB);
  NeedLen(env, kOp, "c", c, needC);
  int64_t bytesA = needA * (a.bf16 ? 2 : 4), bytesB = needB * (b.bf16 ? 2 : 4);
  Require(env, !Overlap(c.ptr, needC * 4, a.ptr, bytesA), kOp, "c must not overlap a");
  Require(env, !Overlap(c.ptr, needC * 4, b.ptr, bytesB), kOp, "c must not overlap b");
  p.a = a.ptr; p.aBf16 = a.bf16;
  p.b = b.ptr; p.bBf16 = b.bf16;
  p.c = c.ptr;
  if (!gemm::GemmAll(p)) throw Napi::RangeError::New(env, "dsllm.gemm: out of memory for packing buffers");
  return env.Undefined();
}

}  // namespace

void RegisterGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, GemmJs, "gemm"));
  // which code paths this build runs, so the TS side can warn when bf16 falls back to f32 math
  exports.Set("gemmCaps", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    auto o = Napi::Object::New(info.Env());
#if defined(__AVX512F__)
    o.Set("isa", "avx512");
#elif defined(__AVX2__)
    o.Set("isa", "avx2");
#else
    o.Set("isa", "scalar");
#endif
    o.Set("bf16Kernel", gemm::kHaveBf16Kernel);
    o.Set("mr", gemm::kMR);
    o.Set("nr", gemm::kNR);
    return o;
  }, "gemmCaps"));
}

}  // namespace dsllm
