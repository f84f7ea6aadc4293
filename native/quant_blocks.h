// GGUF block formats, one block or one row at a time: f16/bf16 helpers, ggml's reference
// quantizers for weights (Q8_0, and a vectorized Q8_0 bit-identical to it; Q4_0), the activation
// quantizer of ggml's x86 matmuls (Q8_0, scalar and vectorized), rows to f32 or bf16.
// Included by quant.cc only (anonymous namespace: one translation unit).
#pragma once
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace dsllm {
namespace {

// format codes shared with src/backends/native/quant.ts
enum Fmt : int { kF32 = 0, kBF16 = 1, kF16 = 2, kQ8 = 3, kQ4 = 4 };
constexpr int QK = 32;
constexpr int kQ8Bytes = 34, kQ4Bytes = 18;

inline float F16ToF32(uint16_t h) { return _cvtsh_ss(h); }
inline uint16_t F32ToF16(float f) { return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline float Bf16ToF32(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; std::memcpy(&f, &u, 4); return f; }
inline uint16_t LoadU16(const uint8_t* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }

// bytes one row of k elements takes
inline int64_t RowBytes(int fmt, int64_t k) {
  switch (fmt) {
    case kF32: return 4 * k;
    case kBF16: case kF16: return 2 * k;
    case kQ8: return k / QK * kQ8Bytes;
    default: return k / QK * kQ4Bytes;
  }
}

// ---- quantize / dequantize one block ------------------------------------------------------------

void QuantizeQ8Block(const float* x, uint8_t* out) {
  float amax = 0.0f;
  for (int j = 0; j < QK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
  uint16_t dh = F32ToF16(d);
  std::memcpy(out, &dh, 2);
  int8_t* q = (int8_t*)(out + 2);
  for (int j = 0; j < QK; ++j) q[j] = (int8_t)std::roundf(x[j] * id);
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
// The same block, vectorized (activations are quantized on every decode matmul): C's roundf (half away
// from zero) as truncate, then one step away from zero where the dropped fraction is ≥ 0.5. Returns
// the sum of the quants (Q4_0's offset term). Bit-identical to the scalar form (tested via quantize).
int32_t QuantizeQ8BlockVec(const float* x, uint8_t* out) {
  __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
  const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
  uint16_t dh = F32ToF16(d);
  std::memcpy(out, &dh, 2);
  const __m512 vid = _mm512_set1_ps(id), half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  auto q = [&](__m512 v) {
    v = _mm512_mul_ps(v, vid);
    __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), half, _CMP_GE_OQ);
    t = _mm512_mask_add_ps(t, up, t, _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(one),
          _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000)))));
    return _mm512_cvttps_epi32(t);
  };
  __m512i qa = q(a), qb = q(b);
  _mm_storeu_si128((__m128i*)(out + 2), _mm512_cvtepi32_epi8(qa));
  _mm_storeu_si128((__m128i*)(out + 18), _mm512_cvtepi32_epi8(qb));
  return _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
}
#endif

// Activations (the x rows of the dot mode) are quantized as ggml's x86 CPU path quantizes them on
// every matmul (quantize_row_q8_0 for decode rows, quantize_mat_q8_0 for prompt rows), which differs
// from the reference quantizer above that weights go through: the inverse scale is 127/amax (not
// 1/(amax/127), which can differ in the last bit) and x·id rounds half to even (vcvtps2dq), not half
// away from zero. d = amax/127 is still stored as f16; the dot products use that rounded d.
// Writes 32 quants and the f32 value of the f16 scale; returns Σq (Q4_0's −8 offset term).
int32_t QuantizeActQ8(const float* x, int8_t* q, float* d) {
  float amax = 0.0f;
  for (int j = 0; j < QK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  *d = F16ToF32(F32ToF16(amax / 127.0f));
  int32_t s = 0;
  for (int j = 0; j < QK; ++j) { q[j] = (int8_t)std::nearbyint(x[j] * id); s += q[j]; }  // default mode: half to even
  return s;
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
// the same block, vectorized; bit-identical to QuantizeActQ8 (max is exact in any order, the
// conversion rounds half to even under the default MXCSR as nearbyint does)
int32_t QuantizeActQ8Vec(const float* x, int8_t* q, float* d) {
  __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
  const __m512 vid = _mm512_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
  *d = F16ToF32(F32ToF16(amax / 127.0f));
  __m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, vid)), qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, vid));
  _mm_storeu_si128((__m128i*)q, _mm512_cvtepi32_epi8(qa));
  _mm_storeu_si128((__m128i*)(q + 16), _mm512_cvtepi32_epi8(qb));
  return _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
}
#endif

void QuantizeQ4Block(const float* x, uint8_t* out) {
  float amax = 0.0f, max = 0.0f;  // max: the signed value of largest magnitude (first one on ties)
  for (int j = 0; j < QK; ++j) {
    if (amax < std::fabs(x[j])) { amax = std::fabs(x[j]); max = x[j]; }
  }
  const float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
  uint16_t dh = F32ToF16(d);
  std::memcpy(out, &dh, 2);
  for (int j = 0; j < QK / 2; ++j) {
    int lo = std::min(15, (int)(int8_t)(x[j] * id + 8.5f));
    int hi = std::min(15, (int)(int8_t)(x[j + QK / 2] * id + 8.5f));
    out[2 + j] = (uint8_t)(lo | (hi << 4));
  }
}

// one row of k elements of any format to f32
void DequantRow(int fmt, const uint8_t* w, int64_t k, float* out) {
  switch (fmt) {
    case kF32: std::memcpy(out, w, 4 * k); return;
    case kBF16: for (int64_t i = 0; i < k; ++i) out[i] = Bf16ToF32(LoadU16(w + 2 * i)); return;
    case kF16: for (int64_t i = 0; i < k; ++i) out[i] = F16ToF32(LoadU16(w + 2 * i)); return;
    case kQ8:
      for (int64_t b = 0; b < k / QK; ++b, w += kQ8Bytes) {
        const float d = F16ToF32(LoadU16(w));
        for (int j = 0; j < QK; ++j) out[b * QK + j] = d * (float)(int8_t)w[2 + j];
      }
      return;
    default:
      for (int64_t b = 0; b < k / QK; ++b, w += kQ4Bytes) {
        const float d = F16ToF32(LoadU16(w));
        for (int j = 0; j < QK / 2; ++j) {
          out[b * QK + j] = d * (float)((w[2 + j] & 0x0f) - 8);
          out[b * QK + j + QK / 2] = d * (float)((w[2 + j] >> 4) - 8);
        }
      }
  }
}

// one row to bf16 (round to nearest even) for the gemm mode's panels
void DequantRowBf16(int fmt, const uint8_t* w, int64_t k, uint16_t* out, float* tmp) {
  if (fmt == kBF16) { std::memcpy(out, w, 2 * k); return; }
#if defined(__AVX512BF16__)
  // block formats straight to bf16 in registers: q → f32 (exact), ·d (one rounding, as DequantRow), → bf16
  if (fmt == kQ8) {
    for (int64_t b = 0; b < k / QK; ++b, w += kQ8Bytes) {
      const __m512 d = _mm512_set1_ps(F16ToF32(LoadU16(w)));
      __m256i q = _mm256_loadu_si256((const __m256i*)(w + 2));
      __m512 lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q))));
      __m512 hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1))));
      _mm512_storeu_si512(out + b * QK, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
    return;
  }
  if (fmt == kQ4) {
    const __m128i m = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
    for (int64_t b = 0; b < k / QK; ++b, w += kQ4Bytes) {
      const __m512 d = _mm512_set1_ps(F16ToF32(LoadU16(w)));
      __m128i raw = _mm_loadu_si128((const __m128i*)(w + 2));
      __m128i qlo = _mm_sub_epi8(_mm_and_si128(raw, m), eight), qhi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(raw, 4), m), eight);
      __m512 lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(qlo)));
      __m512 hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(qhi)));
      _mm512_storeu_si512(out + b * QK, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
    return;
  }
#endif
  DequantRow(fmt, w, k, tmp);
  int64_t i = 0;
#if defined(__AVX512BF16__)
  for (; i + 16 <= k; i += 16) _mm256_storeu_si256((__m256i*)(out + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(tmp + i)));
#endif
  for (; i < k; ++i) {  // dequantized weights are finite: no NaN case
    uint32_t u; std::memcpy(&u, tmp + i, 4);
    out[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
  }
}

}  // namespace
}  // namespace dsllm
