// The optimizer step (AdamW, as torch.optim.AdamW's single-tensor path) and the squared norm used
// for gradient clipping.
// GCC 12 flags the deliberately undefined pass-through operand inside AVX-512 intrinsics
// (_mm512_undefined_*) as (maybe-)uninitialized at -O3; it must be silenced before the headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "common.h"
#include "parallel.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <immintrin.h>
#include <vector>

namespace dsllm {
namespace {

// Scalars as torch forms them: in f64 (Python floats), then cast to f32 where they meet an f32 tensor.
struct AdamScalars {
  float decay;      // 1 − lr·wd
  float omb1;       // 1 − β1, the lerp weight of exp_avg.lerp_(grad, 1 − β1)
  float b2, omb2;   // exp_avg_sq.mul_(β2).addcmul_(grad, grad, value = 1 − β2)
  float bc2sqrt;    // sqrt(1 − β2^step)
  float negStep;    // −lr / (1 − β1^step)
  float eps, gradScale;
};

inline uint16_t Bf16Round(float f) {  // round-to-nearest-even, NaN kept (quiet)
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

// One element, in torch's order of operations (each line one f32 tensor op).
inline float AdamElem(const AdamScalars& s, float& p, float gr, float& m, float& v) {
  float g = gr * s.gradScale;
  p = p * s.decay;
  m = m + s.omb1 * (g - m);  // torch's lerp for weight < 0.5: self + weight·(end − self)
  v = v * s.b2;
  v = v + s.omb2 * (g * g);
  float denom = std::sqrt(v) / s.bc2sqrt + s.eps;
  p = p + s.negStep * (m / denom);
  return p;
}

void AdamW(float* param, const float* grad, float* m, float* v, uint16_t* pbf16, int64_t n, const AdamScalars& s) {
  parallel_for(n, 1 << 14, [&](int64_t lo, int64_t hi, int) {
    int64_t i = lo;
#if defined(__AVX512F__) && defined(__AVX512BW__)
    const __m512 decay = _mm512_set1_ps(s.decay), omb1 = _mm512_set1_ps(s.omb1), b2 = _mm512_set1_ps(s.b2);
    const __m512 omb2 = _mm512_set1_ps(s.omb2), bc2 = _mm512_set1_ps(s.bc2sqrt), negStep = _mm512_set1_ps(s.negStep);
    const __m512 eps = _mm512_set1_ps(s.eps), gs = _mm512_set1_ps(s.gradScale);
    const __m512i absmask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    const __m512i bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1), quiet = _mm512_set1_epi32(0x40);
    for (; i + 16 <= hi; i += 16) {
      __m512 g = _mm512_mul_ps(_mm512_loadu_ps(grad + i), gs);
      __m512 p = _mm512_mul_ps(_mm512_loadu_ps(param + i), decay);
      __m512 mm = _mm512_loadu_ps(m + i);
      mm = _mm512_fmadd_ps(omb1, _mm512_sub_ps(g, mm), mm);
      __m512 vv = _mm512_mul_ps(_mm512_loadu_ps(v + i), b2);
      vv = _mm512_fmadd_ps(omb2, _mm512_mul_ps(g, g), vv);
      __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vv), bc2), eps);
      p = _mm512_fmadd_ps(negStep, _mm512_div_ps(mm, denom), p);
      _mm512_storeu_ps(m + i, mm);
      _mm512_storeu_ps(v + i, vv);
      _mm512_storeu_ps(param + i, p);
      if (pbf16) {
        __m512i u = _mm512_castps_si512(p);
        __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(bias, _mm512_and_si512(_mm512_srli_epi32(u, 16), one)));
        r = _mm512_srli_epi32(r, 16);
        __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, absmask), inf);
        r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), quiet);
        _mm256_storeu_si256((__m256i*)(pbf16 + i), _mm512_cvtepi32_epi16(r));
      }
    }
#endif
    for (; i < hi; ++i) {
      float p = AdamElem(s, param[i], grad[i], m[i], v[i]);
      if (pbf16) pbf16[i] = Bf16Round(p);
    }
  });
}

// Σ x² in f64. The sum is split into fixed blocks whose partials are added in block order, so the
// result is the same for any thread count.
double SumSquares(const float* x, int64_t n) {
  constexpr int64_t kBlock = 1 << 14;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part(nb);
  parallel_for(nb, 8, [&](int64_t b0, int64_t b1, int) {
    for (int64_t b = b0; b < b1; ++b) {
      int64_t i = b * kBlock, e = std::min(n, i + kBlock);
      double s = 0;
#if defined(__AVX512F__)
      // squares of f32s are exact in f64; four accumulators hide the FMA latency
      __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
      for (; i + 32 <= e; i += 32) {
        __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
        __m512d d0 = _mm512_cvtps_pd(_mm512_castps512_ps256(x0));
        __m512d d1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x0), 1)));
        __m512d d2 = _mm512_cvtps_pd(_mm512_castps512_ps256(x1));
        __m512d d3 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x1), 1)));
        a0 = _mm512_fmadd_pd(d0, d0, a0);
        a1 = _mm512_fmadd_pd(d1, d1, a1);
        a2 = _mm512_fmadd_pd(d2, d2, a2);
        a3 = _mm512_fmadd_pd(d3, d3, a3);
      }
      s = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
#endif
      for (; i < e; ++i) s += (double)x[i] * (double)x[i];
      part[b] = s;
    }
  });
  double total = 0;
  for (double p : part) total += p;
  return total;
}

Napi::Value AdamWBinding(const Napi::CallbackInfo& info) {
  const char* op = "adamw";
  Napi::Env env = info.Env();
  auto param = F32Arg(info, 0, op, "param");
  auto grad = F32Arg(info, 1, op, "grad");
  auto m = F32Arg(info, 2, op, "m");
  auto v = F32Arg(info, 3, op, "v");
  int64_t n = IntArg(info, 4, op, "n");
  double lr = NumArg(info, 5, op, "lr"), beta1 = NumArg(info, 6, op, "beta1"), beta2 = NumArg(info, 7, op, "beta2");
  double eps = NumArg(info, 8, op, "eps"), wd = NumArg(info, 9, op, "weightDecay");
  int64_t step = IntArg(info, 10, op, "step");
  double gradScale = NumArg(info, 11, op, "gradScale");
  Buf<uint16_t> pbf16{nullptr, 0};
  if (info.Length() > 12 && !info[12].IsNull() && !info[12].IsUndefined()) pbf16 = U16Arg(info, 12, op, "paramBf16");
  NeedLen(env, op, "param", param, n);
  NeedLen(env, op, "grad", grad, n);
  NeedLen(env, op, "m", m, n);
  NeedLen(env, op, "v", v, n);
  if (pbf16.ptr) NeedLen(env, op, "paramBf16", pbf16, n);
  // torch.optim.AdamW's own checks
  Require(env, lr >= 0 && std::isfinite(lr), op, "argument 'lr' must be finite and >= 0");
  Require(env, beta1 >= 0 && beta1 < 1, op, "argument 'beta1' must be in [0, 1)");
  Require(env, beta2 >= 0 && beta2 < 1, op, "argument 'beta2' must be in [0, 1)");
  Require(env, eps >= 0 && std::isfinite(eps), op, "argument 'eps' must be finite and >= 0");
  Require(env, wd >= 0 && std::isfinite(wd), op, "argument 'weightDecay' must be finite and >= 0");
  Require(env, step >= 1, op, "argument 'step' must be >= 1");
  Require(env, std::isfinite(gradScale), op, "argument 'gradScale' must be finite");
  AdamScalars s;
  s.decay = (float)(1.0 - lr * wd);
  s.omb1 = (float)(1.0 - beta1);
  s.b2 = (float)beta2;
  s.omb2 = (float)(1.0 - beta2);
  s.bc2sqrt = (float)std::sqrt(1.0 - std::pow(beta2, (double)step));
  s.negStep = (float)(-(lr / (1.0 - std::pow(beta1, (double)step))));
  s.eps = (float)eps;
  s.gradScale = (float)gradScale;
  AdamW(param.ptr, grad.ptr, m.ptr, v.ptr, pbf16.ptr, n, s);
  return env.Undefined();
}

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("adamw", Napi::Function::New(env, AdamWBinding));
  exports.Set("sumSquares", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    auto x = F32Arg(info, 0, "sumSquares", "x");
    int64_t n = IntArg(info, 1, "sumSquares", "n");
    NeedLen(info.Env(), "sumSquares", "x", x, n);
    return Napi::Number::New(info.Env(), SumSquares(x.ptr, n));
  }));
}

}  // namespace dsllm
