// Softmax cross-entropy over rows of logits. One pass per row finds the max and the sum of
// exponentials together (online rescaling, as flash attention does: the running sum is rescaled
// only when a lane's running max grows, which after the first few vectors is rare); a second pass
// writes the gradient. Rows of a 102400-entry vocabulary (400 KB) stay in L2 between the passes.
// GCC 12 flags the deliberately undefined pass-through operand inside AVX-512 intrinsics
// (_mm512_undefined_*) as (maybe-)uninitialized at -O3; it must be silenced before the headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "common.h"
#include "parallel.h"
#include "simd_math.h"
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <immintrin.h>

namespace dsllm {
namespace {

#if defined(__AVX512F__)

// Max and Σ exp(x − max) of one row in one pass. Lanes start at −FLT_MAX (not −inf) so a lane that
// only ever sees padding never computes −inf − (−inf). Each 64-element block's exponentials are
// summed in f32 and the blocks in f64 (two 8-lane halves), so a 102400-entry row keeps ~1e-7
// relative accuracy instead of drifting by √(blocks)·ulp.
inline __m512d LoHalf(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
inline __m512d HiHalf(__m512 v) { return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))); }

inline void RowMaxSum(const float* x, int64_t V, float* maxOut, double* sumOut) {
  __m512 m = _mm512_set1_ps(-FLT_MAX);
  __m512d slo = _mm512_setzero_pd(), shi = _mm512_setzero_pd();
  auto rescale = [&](__m512 mx) {
    if (_mm512_cmp_ps_mask(mx, m, _CMP_NEQ_UQ)) {
      __m512 f = Exp512(_mm512_sub_ps(m, mx));
      slo = _mm512_mul_pd(slo, LoHalf(f));
      shi = _mm512_mul_pd(shi, HiHalf(f));
    }
    m = mx;
  };
  auto accumulate = [&](__m512 e) {
    slo = _mm512_add_pd(slo, LoHalf(e));
    shi = _mm512_add_pd(shi, HiHalf(e));
  };
  int64_t j = 0;
  for (; j + 64 <= V; j += 64) {
    __m512 x0 = _mm512_loadu_ps(x + j), x1 = _mm512_loadu_ps(x + j + 16);
    __m512 x2 = _mm512_loadu_ps(x + j + 32), x3 = _mm512_loadu_ps(x + j + 48);
    rescale(_mm512_max_ps(m, _mm512_max_ps(_mm512_max_ps(x0, x1), _mm512_max_ps(x2, x3))));
    __m512 e01 = _mm512_add_ps(Exp512(_mm512_sub_ps(x0, m)), Exp512(_mm512_sub_ps(x1, m)));
    __m512 e23 = _mm512_add_ps(Exp512(_mm512_sub_ps(x2, m)), Exp512(_mm512_sub_ps(x3, m)));
    accumulate(_mm512_add_ps(e01, e23));
  }
  for (; j < V; j += 16) {
    __mmask16 k = V - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (V - j)) - 1);
    __m512 xv = _mm512_maskz_loadu_ps(k, x + j);
    rescale(_mm512_mask_max_ps(m, k, m, xv));
    accumulate(_mm512_maskz_mov_ps(k, Exp512(_mm512_sub_ps(xv, m))));
  }
  float M = _mm512_reduce_max_ps(m);
  // a NaN logit has made its lane's sum NaN (exp(NaN) in the rescale or the sum): the loss is NaN
  __m512 f = Exp512(_mm512_sub_ps(m, _mm512_set1_ps(M)));
  *sumOut = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_mul_pd(slo, LoHalf(f)), _mm512_mul_pd(shi, HiHalf(f))));
  *maxOut = M;
}

// d[j] = exp(x[j] − M)·scale (d may be x)
inline void RowSoftmaxScaled(float* d, const float* x, int64_t V, float M, float scale) {
  const __m512 vm = _mm512_set1_ps(M), vs = _mm512_set1_ps(scale);
  int64_t j = 0;
  for (; j + 32 <= V; j += 32) {
    __m512 e0 = Exp512(_mm512_sub_ps(_mm512_loadu_ps(x + j), vm));
    __m512 e1 = Exp512(_mm512_sub_ps(_mm512_loadu_ps(x + j + 16), vm));
    _mm512_storeu_ps(d + j, _mm512_mul_ps(e0, vs));
    _mm512_storeu_ps(d + j + 16, _mm512_mul_ps(e1, vs));
  }
  for (; j < V; j += 16) {
    __mmask16 k = V - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (V - j)) - 1);
    __m512 e = Exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), vm));
    _mm512_mask_storeu_ps(d + j, k, _mm512_mul_ps(e, vs));
  }
}
#else
inline void RowMaxSum(const float* x, int64_t V, float* maxOut, double* sumOut) {
  float M = -FLT_MAX;
  bool nan = false;
  for (int64_t j = 0; j < V; ++j) { M = std::max(M, x[j]); nan |= std::isnan(x[j]); }
  double S = 0;
  for (int64_t j = 0; j < V; ++j) S += std::exp(x[j] - M);
  *maxOut = M;
  *sumOut = nan ? NAN : S;
}

inline void RowSoftmaxScaled(float* d, const float* x, int64_t V, float M, float scale) {
  for (int64_t j = 0; j < V; ++j) d[j] = std::exp(x[j] - M) * scale;
}
#endif

void CrossEntropy(float* losses, float* dlogits, const float* logits, const int32_t* targets, int64_t N, int64_t V,
                  int64_t ignoreIndex, float gradScale) {
  if (N == 0) return;  // V may be 0 then
  const int64_t grain = std::max<int64_t>(1, 8192 / V);
  parallel_for(N, grain, [&](int64_t lo, int64_t hi, int) {
    for (int64_t i = lo; i < hi; ++i) {
      const float* x = logits + i * V;
      float* d = dlogits ? dlogits + i * V : nullptr;
      const int64_t t = targets[i];
      if (t == ignoreIndex) {
        losses[i] = 0;
        if (d) std::memset(d, 0, V * sizeof(float));
        continue;
      }
      float M;
      double S;
      RowMaxSum(x, V, &M, &S);
      const float xt = x[t];  // read before d (which may be x) is written
      losses[i] = (float)((double)M + std::log(S) - (double)xt);
      if (d) {
        RowSoftmaxScaled(d, x, V, M, (float)(gradScale / S));
        d[t] -= gradScale;
      }
    }
  });
}

Napi::Value CrossEntropyBinding(const Napi::CallbackInfo& info) {
  const char* op = "crossEntropy";
  Napi::Env env = info.Env();
  auto losses = F32Arg(info, 0, op, "losses");
  Buf<float> dlogits{nullptr, 0};
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) dlogits = F32Arg(info, 1, op, "dlogits");
  auto logits = F32Arg(info, 2, op, "logits");
  auto targets = I32Arg(info, 3, op, "targets");
  int64_t N = IntArg(info, 4, op, "N");
  int64_t V = IntArg(info, 5, op, "V");
  double ignore = NumArg(info, 6, op, "ignoreIndex");
  double gradScale = NumArg(info, 7, op, "gradScale");
  Require(env, ignore == std::floor(ignore) && std::fabs(ignore) < 9.0e15, op, "argument 'ignoreIndex' must be an integer");
  Require(env, std::isfinite(gradScale), op, "argument 'gradScale' must be finite");
  Require(env, V >= 1 || N == 0, op, "argument 'V' must be >= 1");
  Require(env, V <= ((int64_t)1 << 31), op, "argument 'V' must fit in int32 (targets are Int32)");
  Require(env, N == 0 || N <= (int64_t)(logits.len / V), op,
          "argument 'logits' holds " + std::to_string(logits.len) + " elements, needs N·V = " + std::to_string(N) + "·" + std::to_string(V));
  if (dlogits.ptr)
    Require(env, N == 0 || N <= (int64_t)(dlogits.len / V), op,
            "argument 'dlogits' holds " + std::to_string(dlogits.len) + " elements, needs N·V");
  NeedLen(env, op, "losses", losses, N);
  NeedLen(env, op, "targets", targets, N);
  const int64_t ignoreIndex = (int64_t)ignore;
  for (int64_t i = 0; i < N; ++i) {
    int64_t t = targets.ptr[i];
    if (t != ignoreIndex && (t < 0 || t >= V))
      Fail(env, op, "targets[" + std::to_string(i) + "] = " + std::to_string(t) + " is outside [0, " + std::to_string(V) +
                        ") and is not ignoreIndex (" + std::to_string(ignoreIndex) + ")");
  }
  CrossEntropy(losses.ptr, dlogits.ptr, logits.ptr, targets.ptr, N, V, ignoreIndex, (float)gradScale);
  return env.Undefined();
}

}  // namespace

void RegisterLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropyBinding));
}

}  // namespace dsllm
