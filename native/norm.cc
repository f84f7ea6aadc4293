// RMSNorm over the last dim (LLaMA/DeepSeek: no mean subtraction, no bias), forward and backward.
// The forward's scale is ggml's (llama.cpp's CPU rms_norm): Σ of the f32 squares in f64, its mean
// rounded to f32, r = 1/sqrtf(mean + eps) in f32 — so that inference reproduces llama.cpp's
// activations to the bit (a last-bit difference in r moves quantized activations across rounding
// ties; see quant_dot.h). The f64 sum is exact for rows of similar magnitudes, whatever its order.
// Rows are independent: both passes parallelize over rows.
#include "common.h"
#include "parallel.h"
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace dsllm {
namespace {

// Below about this many elements a hand-off to the pool costs more than it saves.
constexpr int64_t kMinWork = 16384;

int64_t CheckedMul(Napi::Env env, const char* op, int64_t a, int64_t b) {
  if (a != 0 && b > INT64_MAX / a) Fail(env, op, "N*C overflows");
  return a * b;
}

// The weight as f32: bf16 storage is widened once per call so the row loops see a single type.
const float* WeightF32(const AnyFloat& w, int64_t C, std::vector<float>& tmp) {
  if (!w.bf16) return static_cast<const float*>(w.ptr);
  tmp.resize((size_t)C);
  const uint16_t* p = static_cast<const uint16_t*>(w.ptr);
  for (int64_t i = 0; i < C; i++) {
    uint32_t u = (uint32_t)p[i] << 16;
    std::memcpy(&tmp[(size_t)i], &u, 4);
  }
  return tmp.data();
}

#if defined(__AVX512F__)
inline __mmask16 Tail(int64_t n) { return (__mmask16)((1u << n) - 1u); }  // 0 < n < 16

// a += lo·lo' and b += hi·hi' in f64, for the two 8-lane halves of u and v
inline void Fma64(__m512 u, __m512 v, __m512d& a, __m512d& b) {
  __m512d ulo = _mm512_cvtps_pd(_mm512_castps512_ps256(u));
  __m512d uhi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(u), 1)));
  __m512d vlo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
  __m512d vhi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  a = _mm512_fmadd_pd(ulo, vlo, a);
  b = _mm512_fmadd_pd(uhi, vhi, b);
}
#endif

// Σ x² over one row: each square rounded to f32 (as ggml's (ggml_float)(x·x)), summed in f64
double SumSquares(const float* x, int64_t C) {
#if defined(__AVX512F__)
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  auto add = [](__m512 sq, __m512d& lo, __m512d& hi) {
    lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(sq)));
    hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sq), 1))));
  };
  int64_t i = 0;
  for (; i + 32 <= C; i += 32) {
    __m512 u = _mm512_loadu_ps(x + i), v = _mm512_loadu_ps(x + i + 16);
    add(_mm512_mul_ps(u, u), a0, a1);
    add(_mm512_mul_ps(v, v), a2, a3);
  }
  for (; i < C; i += 16) {
    __m512 u = C - i >= 16 ? _mm512_loadu_ps(x + i) : _mm512_maskz_loadu_ps(Tail(C - i), x + i);
    add(_mm512_mul_ps(u, u), a0, a1);
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
#else
  double s = 0;
  for (int64_t i = 0; i < C; i++) s += (double)(x[i] * x[i]);
  return s;
#endif
}

// out = (x·r)·w, HF's rounding order
void ScaleRow(float* out, const float* x, const float* w, float r, int64_t C) {
#if defined(__AVX512F__)
  __m512 vr = _mm512_set1_ps(r);
  int64_t i = 0;
  for (; i + 16 <= C; i += 16)
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vr), _mm512_loadu_ps(w + i)));
  if (i < C) {
    __mmask16 m = Tail(C - i);
    __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vr), _mm512_maskz_loadu_ps(m, w + i));
    _mm512_mask_storeu_ps(out + i, m, v);
  }
#else
  for (int64_t i = 0; i < C; i++) out[i] = (x[i] * r) * w[i];
#endif
}

// Σ dout·w·x over one row, in f64
double DotDwx(const float* dout, const float* w, const float* x, int64_t C) {
#if defined(__AVX512F__)
  __m512d a0 = _mm512_setzero_pd(), a1 = a0;
  for (int64_t i = 0; i < C; i += 16) {
    __mmask16 m = C - i >= 16 ? (__mmask16)0xFFFF : Tail(C - i);
    __m512 dw = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dout + i), _mm512_maskz_loadu_ps(m, w + i));
    Fma64(dw, _mm512_maskz_loadu_ps(m, x + i), a0, a1);
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
#else
  double s = 0;
  for (int64_t i = 0; i < C; i++) s += (double)(dout[i] * w[i]) * x[i];
  return s;
#endif
}

// dx += r·w·dout − k·x ;  dwAcc += dout·x·r (f64 per-thread partial)
void BackwardRow(float* dx, double* dwAcc, const float* dout, const float* x, const float* w, float r, float k, int64_t C) {
#if defined(__AVX512F__)
  __m512 vr = _mm512_set1_ps(r), vk = _mm512_set1_ps(k);
  for (int64_t i = 0; i < C; i += 16) {
    __mmask16 m = C - i >= 16 ? (__mmask16)0xFFFF : Tail(C - i);
    __m512 d = _mm512_maskz_loadu_ps(m, dout + i), xv = _mm512_maskz_loadu_ps(m, x + i);
    __m512 g = _mm512_fnmadd_ps(vk, xv, _mm512_mul_ps(vr, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, w + i), d)));
    _mm512_mask_storeu_ps(dx + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dx + i), g));
    __m512 q = _mm512_mul_ps(_mm512_mul_ps(d, xv), vr);
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(q));
    __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(q), 1)));
    // dwAcc has a multiple of 16 doubles (see the allocation), so full-width f64 access is safe
    _mm512_storeu_pd(dwAcc + i, _mm512_add_pd(_mm512_loadu_pd(dwAcc + i), lo));
    _mm512_storeu_pd(dwAcc + i + 8, _mm512_add_pd(_mm512_loadu_pd(dwAcc + i + 8), hi));
  }
#else
  for (int64_t i = 0; i < C; i++) {
    dx[i] += r * (w[i] * dout[i]) - k * x[i];
    dwAcc[i] += (double)((dout[i] * x[i]) * r);
  }
#endif
}

void RmsnormForward(float* out, float* rstd, const float* x, const float* w, int64_t N, int64_t C, double eps) {
  parallel_for(N, std::max<int64_t>(1, kMinWork / C), [&](int64_t b, int64_t e, int) {
    for (int64_t n = b; n < e; n++) {
      const float* xr = x + n * C;
      const float mean = (float)(SumSquares(xr, C) / (double)C);
      const float r = 1.0f / std::sqrt(mean + (float)eps);
      if (rstd) rstd[n] = r;
      ScaleRow(out + n * C, xr, w, r, C);
    }
  });
}

// y = x·r·w with r = (mean(x²)+eps)^(-1/2), dr/dx_j = −r³·x_j/C, so
//   dx_j = r·w_j·dout_j − x_j·(r³/C)·Σ_i dout_i·w_i·x_i ;  dw_j = Σ_rows dout_j·x_j·r
void RmsnormBackward(float* dx, float* dw, const float* dout, const float* x, const float* w, const float* rstd,
                     int64_t N, int64_t C) {
  // one f64 dw partial per thread, padded to whole 16-lane vectors, reduced below in thread order
  const int64_t Cpad = (C + 15) / 16 * 16;
  const int T = num_threads();
  std::vector<double> part((size_t)(T * Cpad), 0.0);
  parallel_for(N, std::max<int64_t>(1, kMinWork / C), [&](int64_t b, int64_t e, int t) {
    double* acc = part.data() + (size_t)t * Cpad;
    for (int64_t n = b; n < e; n++) {
      const float* xr = x + n * C;
      const float* dr = dout + n * C;
      float r = rstd[n];
      float k = (float)((double)r * r * r * DotDwx(dr, w, xr, C) / (double)C);
      BackwardRow(dx + n * C, acc, dr, xr, w, r, k, C);
    }
  });
  for (int64_t j = 0; j < C; j++) {
    double s = 0;
    for (int t = 0; t < T; t++) s += part[(size_t)(t * Cpad + j)];
    dw[j] += (float)s;
  }
}

Napi::Value JsRmsnormForward(const Napi::CallbackInfo& info) {
  const char* op = "rmsnormForward";
  Napi::Env env = info.Env();
  auto out = F32Arg(info, 0, op, "out");
  Buf<float> rstd{nullptr, 0};
  bool hasRstd = info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined();
  if (hasRstd) rstd = F32Arg(info, 1, op, "rstd");
  auto x = F32Arg(info, 2, op, "x");
  auto w = FloatArg(info, 3, op, "w");
  int64_t N = IntArg(info, 4, op, "N"), C = IntArg(info, 5, op, "C");
  double eps = NumArg(info, 6, op, "eps");
  Require(env, C >= 1, op, "C must be at least 1");
  Require(env, std::isfinite(eps) && eps >= 0, op, "eps must be a finite number >= 0");
  int64_t NC = CheckedMul(env, op, N, C);
  NeedLen(env, op, "out", out, NC);
  if (hasRstd) NeedLen(env, op, "rstd", rstd, N);
  NeedLen(env, op, "x", x, NC);
  NeedLen(env, op, "w", w, C);
  std::vector<float> tmp;
  RmsnormForward(out.ptr, rstd.ptr, x.ptr, WeightF32(w, C, tmp), N, C, eps);
  return env.Undefined();
}

Napi::Value JsRmsnormBackward(const Napi::CallbackInfo& info) {
  const char* op = "rmsnormBackward";
  Napi::Env env = info.Env();
  auto dx = F32Arg(info, 0, op, "dx");
  auto dw = F32Arg(info, 1, op, "dw");
  auto dout = F32Arg(info, 2, op, "dout");
  auto x = F32Arg(info, 3, op, "x");
  auto w = FloatArg(info, 4, op, "w");
  auto rstd = F32Arg(info, 5, op, "rstd");
  int64_t N = IntArg(info, 6, op, "N"), C = IntArg(info, 7, op, "C");
  Require(env, C >= 1, op, "C must be at least 1");
  int64_t NC = CheckedMul(env, op, N, C);
  NeedLen(env, op, "dx", dx, NC);
  NeedLen(env, op, "dw", dw, C);
  NeedLen(env, op, "dout", dout, NC);
  NeedLen(env, op, "x", x, NC);
  NeedLen(env, op, "w", w, C);
  NeedLen(env, op, "rstd", rstd, N);
  std::vector<float> tmp;
  RmsnormBackward(dx.ptr, dw.ptr, dout.ptr, x.ptr, WeightF32(w, C, tmp), rstd.ptr, N, C);
  return env.Undefined();
}

}  // namespace

void RegisterNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("rmsnormForward", Napi::Function::New(env, JsRmsnormForward, "rmsnormForward"));
  exports.Set("rmsnormBackward", Napi::Function::New(env, JsRmsnormBackward, "rmsnormBackward"));
}

}  // namespace dsllm
