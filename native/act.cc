// SwiGLU: out = silu(gate)·up, silu(g) = g·σ(g). σ is built from e = exp(−|g|) ∈ (0, 1], which never
// overflows: for g ≥ 0, σ = 1/(1+e) and 1−σ = e/(1+e); for g < 0 the two swap. Both σ and 1−σ are
// then accurate to a few ulp even where one of them is tiny (the backward needs 1−σ at large g).
#include "common.h"
#include "parallel.h"
#include "simd_math.h"
#include <algorithm>
#include <climits>
#include <cmath>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace dsllm {
namespace {

constexpr int64_t kBlock = 64;         // elements per parallel_for item (4 vectors)
constexpr int64_t kMinBlocks = 16384 / kBlock;  // below ~16K elements a pool hand-off costs more than it saves

#if defined(__AVX512F__)
inline __mmask16 Lanes(int64_t left) { return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u); }


// σ(g) and 1−σ(g)
inline void Sigmoid(__m512 g, __m512& sig, __m512& oms) {
  __m512 e = Exp512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(g)));  // exp(−|g|)
  __m512 a = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), e));  // 1/(1+e)
  __m512 b = _mm512_mul_ps(e, a);                                                          // e/(1+e)
  __mmask16 pos = _mm512_cmp_ps_mask(g, _mm512_setzero_ps(), _CMP_GE_OQ);
  sig = _mm512_mask_blend_ps(pos, b, a);
  oms = _mm512_mask_blend_ps(pos, a, b);
}
#endif

inline void SigmoidScalar(float g, float& sig, float& oms) {
  float e = std::exp(-std::fabs(g));
  float a = 1.0f / (1.0f + e), b = e * a;
  if (g >= 0) { sig = a; oms = b; } else { sig = b; oms = a; }
}

void ForwardRange(float* out, const float* gate, const float* up, int64_t b, int64_t e) {
  int64_t i = b;
#if defined(__AVX512F__)
  for (; i < e; i += 16) {
    __mmask16 m = Lanes(e - i);
    __m512 g = _mm512_maskz_loadu_ps(m, gate + i), sig, oms;
    Sigmoid(g, sig, oms);
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_mul_ps(g, sig), _mm512_maskz_loadu_ps(m, up + i)));
  }
#endif
  for (; i < e; i++) {
    float sig, oms;
    SigmoidScalar(gate[i], sig, oms);
    out[i] = (gate[i] * sig) * up[i];
  }
}

// dgate += dout·up·σ·(1 + g·(1−σ)),  dup += dout·silu(g)
void BackwardRange(float* dgate, float* dup, const float* dout, const float* gate, const float* up, int64_t b, int64_t e) {
  int64_t i = b;
#if defined(__AVX512F__)
  const __m512 one = _mm512_set1_ps(1.0f);
  for (; i < e; i += 16) {
    __mmask16 m = Lanes(e - i);
    __m512 g = _mm512_maskz_loadu_ps(m, gate + i), sig, oms;
    Sigmoid(g, sig, oms);
    __m512 d = _mm512_maskz_loadu_ps(m, dout + i), u = _mm512_maskz_loadu_ps(m, up + i);
    __m512 dsilu = _mm512_mul_ps(sig, _mm512_fmadd_ps(g, oms, one));
    __m512 dg = _mm512_mul_ps(_mm512_mul_ps(d, u), dsilu);
    __m512 du = _mm512_mul_ps(d, _mm512_mul_ps(g, sig));
    _mm512_mask_storeu_ps(dgate + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dgate + i), dg));
    _mm512_mask_storeu_ps(dup + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dup + i), du));
  }
#endif
  for (; i < e; i++) {
    float g = gate[i], sig, oms;
    SigmoidScalar(g, sig, oms);
    float d = dout[i];
    dgate[i] += (d * up[i]) * (sig * (1.0f + g * oms));
    dup[i] += d * (g * sig);
  }
}

// Runs fn over [0, n) in blocks of kBlock elements spread over the pool.
template <typename F>
void Blocks(int64_t n, F&& fn) {
  parallel_for((n + kBlock - 1) / kBlock, kMinBlocks, [&](int64_t b, int64_t e, int) {
    fn(b * kBlock, std::min(e * kBlock, n));
  });
}

Napi::Value JsSwigluForward(const Napi::CallbackInfo& info) {
  const char* op = "swigluForward";
  Napi::Env env = info.Env();
  auto out = F32Arg(info, 0, op, "out");
  auto gate = F32Arg(info, 1, op, "gate");
  auto up = F32Arg(info, 2, op, "up");
  int64_t n = IntArg(info, 3, op, "n");
  NeedLen(env, op, "out", out, n);
  NeedLen(env, op, "gate", gate, n);
  NeedLen(env, op, "up", up, n);
  Blocks(n, [&](int64_t b, int64_t e) { ForwardRange(out.ptr, gate.ptr, up.ptr, b, e); });
  return env.Undefined();
}

Napi::Value JsSwigluBackward(const Napi::CallbackInfo& info) {
  const char* op = "swigluBackward";
  Napi::Env env = info.Env();
  auto dgate = F32Arg(info, 0, op, "dgate");
  auto dup = F32Arg(info, 1, op, "dup");
  auto dout = F32Arg(info, 2, op, "dout");
  auto gate = F32Arg(info, 3, op, "gate");
  auto up = F32Arg(info, 4, op, "up");
  int64_t n = IntArg(info, 5, op, "n");
  NeedLen(env, op, "dgate", dgate, n);
  NeedLen(env, op, "dup", dup, n);
  NeedLen(env, op, "dout", dout, n);
  NeedLen(env, op, "gate", gate, n);
  NeedLen(env, op, "up", up, n);
  Blocks(n, [&](int64_t b, int64_t e) { BackwardRange(dgate.ptr, dup.ptr, dout.ptr, gate.ptr, up.ptr, b, e); });
  return env.Undefined();
}

}  // namespace

void RegisterAct(Napi::Env env, Napi::Object exports) {
  exports.Set("swigluForward", Napi::Function::New(env, JsSwigluForward, "swigluForward"));
  exports.Set("swigluBackward", Napi::Function::New(env, JsSwigluBackward, "swigluBackward"));
}

}  // namespace dsllm
