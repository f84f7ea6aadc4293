// Float format conversions: f32 <-> bf16 and f32 <-> IEEE half, all round-to-nearest-even, NaN kept
// NaN (quiet). Memory-bound, so the work is split over threads in large chunks.
//
// f32 -> bf16 is done with integer ops rather than AVX512-BF16's vcvtneps2bf16: that instruction
// flushes subnormal inputs to zero (DAZ/FTZ by definition), whereas torch's c10::BFloat16 and our
// reference keep them. The integer form costs the same here (the loop is bandwidth-bound).
// f32 <-> f16 uses vcvtps2ph/vcvtph2ps (AVX-512F/F16C), which are exact IEEE conversions (subnormals,
// infinities, NaNs quieted with the payload's top bits kept), matching the reference bit for bit.
// GCC 12 flags the deliberately undefined pass-through operand inside AVX-512 intrinsics
// (_mm512_undefined_*) as (maybe-)uninitialized at -O3; it must be silenced before the headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "common.h"
#include "parallel.h"
#include <cstring>
#include <immintrin.h>

namespace dsllm {
namespace {

constexpr int64_t kGrain = 1 << 16;  // elements per thread at least: below this, threading costs more

inline uint32_t F32Bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float BitsF32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// Scalar forms: the whole loop without AVX-512, and the last < 16 elements with it (so the tests,
// which run odd sizes, exercise them on every machine).
inline uint16_t F32ToBf16Scalar(uint32_t u) {
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // NaN: keep it, quiet it
  return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

inline uint16_t F32ToF16Scalar(uint32_t u) {
  uint32_t sign = (u >> 16) & 0x8000, exp = (u >> 23) & 0xff, mant = u & 0x7fffff;
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 | (mant >> 13) : 0));
  int e = (int)exp - 127 + 15;  // biased half exponent
  if (e >= 31) return (uint16_t)(sign | 0x7c00);
  uint32_t m = mant | 0x800000;  // 24-bit significand (f32 subnormals are far below half range)
  if (exp == 0) return (uint16_t)sign;
  int shift = e >= 1 ? 13 : 14 - e;  // bits dropped from the 24-bit significand
  if (shift > 24) return (uint16_t)sign;
  uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) ++q;
  // normal: q carries the hidden bit at 2^10; adding the exponent field lets a carry bump it
  uint32_t h = e >= 1 ? (((uint32_t)e << 10) + q - 0x400) : q;
  if (h >= 0x7c00) h = 0x7c00;
  return (uint16_t)(sign | h);
}

inline uint32_t F16ToF32Bits(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0x1f) return sign | 0x7f800000u | (mant ? 0x400000u | (mant << 13) : 0);
  if (exp == 0) {
    if (mant == 0) return sign;
    float f = (float)mant * (1.0f / 16777216.0f);  // mant·2^-24, exact in f32
    return sign | F32Bits(f);
  }
  return sign | ((exp + 112) << 23) | (mant << 13);
}

void F32ToBf16(uint16_t* out, const float* x, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e, int) {
    int64_t i = b;
#if defined(__AVX512F__) && defined(__AVX512BW__)
    const __m512i absmask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    const __m512i bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1), quiet = _mm512_set1_epi32(0x40);
    auto cvt = [&](__m512i u) {
      __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(bias, _mm512_and_si512(_mm512_srli_epi32(u, 16), one)));
      r = _mm512_srli_epi32(r, 16);
      __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, absmask), inf);
      r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), quiet);
      return _mm512_cvtepi32_epi16(r);
    };
    for (; i + 16 <= e; i += 16)
      _mm256_storeu_si256((__m256i*)(out + i), cvt(_mm512_loadu_si512(x + i)));
#endif
    for (; i < e; ++i) out[i] = F32ToBf16Scalar(F32Bits(x[i]));
  });
}

void Bf16ToF32(float* out, const uint16_t* x, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e, int) {
    int64_t i = b;
#if defined(__AVX512F__) && defined(__AVX512BW__)
    for (; i + 16 <= e; i += 16) {
      __m512i u = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(x + i)));
      _mm512_storeu_si512(out + i, _mm512_slli_epi32(u, 16));
    }
#endif
    for (; i < e; ++i) out[i] = BitsF32((uint32_t)x[i] << 16);
  });
}

void F32ToF16(uint16_t* out, const float* x, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e, int) {
    int64_t i = b;
#if defined(__AVX512F__) && defined(__AVX512BW__)
    constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    for (; i + 16 <= e; i += 16)
      _mm256_storeu_si256((__m256i*)(out + i), _mm512_cvtps_ph(_mm512_loadu_ps(x + i), kRound));
#endif
    for (; i < e; ++i) out[i] = F32ToF16Scalar(F32Bits(x[i]));
  });
}

void F16ToF32(float* out, const uint16_t* x, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e, int) {
    int64_t i = b;
#if defined(__AVX512F__) && defined(__AVX512BW__)
    for (; i + 16 <= e; i += 16)
      _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(x + i))));
#endif
    for (; i < e; ++i) out[i] = BitsF32(F16ToF32Bits(x[i]));
  });
}

// (out, x, n): out is u16 or f32 as the direction says; both must hold n elements.
template <bool kToHalf>
Napi::Value Bind(const Napi::CallbackInfo& info, const char* op, void (*toHalf)(uint16_t*, const float*, int64_t),
                 void (*fromHalf)(float*, const uint16_t*, int64_t)) {
  Napi::Env env = info.Env();
  int64_t n = IntArg(info, 2, op, "n");
  if (kToHalf) {
    auto out = U16Arg(info, 0, op, "out");
    auto x = F32Arg(info, 1, op, "x");
    NeedLen(env, op, "out", out, n);
    NeedLen(env, op, "x", x, n);
    toHalf(out.ptr, x.ptr, n);
  } else {
    auto out = F32Arg(info, 0, op, "out");
    auto x = U16Arg(info, 1, op, "x");
    NeedLen(env, op, "out", out, n);
    NeedLen(env, op, "x", x, n);
    fromHalf(out.ptr, x.ptr, n);
  }
  return env.Undefined();
}

}  // namespace

void RegisterConvert(Napi::Env env, Napi::Object exports) {
  exports.Set("f32ToBf16", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Bind<true>(info, "f32ToBf16", F32ToBf16, nullptr);
  }));
  exports.Set("bf16ToF32", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Bind<false>(info, "bf16ToF32", nullptr, Bf16ToF32);
  }));
  exports.Set("f32ToF16", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Bind<true>(info, "f32ToF16", F32ToF16, nullptr);
  }));
  exports.Set("f16ToF32", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Bind<false>(info, "f16ToF32", nullptr, F16ToF32);
  }));
}

}  // namespace dsllm
