// The dot kernels of matmulQuant's dot mode: activations quantized to q8_0 blocks (QuantX), int8
// VNNI dot products against q8_0/q4_0 weight rows (one row, or 2..4 rows sharing each weight
// block), and f32 x against f32/bf16/f16 rows widened in registers. Included by quant.cc only.
#pragma once
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "quant_blocks.h"

namespace dsllm {
namespace {

// ---- dot mode ---------------------------------------------------------------------------------

// x rows quantized to q8_0: per block its scale, the sum of its quants (Q4_0's −8 offset) and 32 quants
struct QuantX {
  std::vector<float> d;
  std::vector<int32_t> sum;
  std::vector<int8_t> q;
  void Build(const float* x, int64_t rows, int64_t k) {
    const int64_t nb = k / QK;
    d.resize(rows * nb); sum.resize(rows * nb); q.resize(rows * k + 64);
    uint8_t blk[kQ8Bytes];
    for (int64_t i = 0; i < rows * nb; ++i) {
#if defined(__AVX512F__) && defined(__AVX512BW__)
      sum[i] = QuantizeQ8BlockVec(x + i * QK, blk);
      std::memcpy(&q[i * QK], blk + 2, QK);
#else
      QuantizeQ8Block(x + i * QK, blk);
      int32_t s = 0;
      for (int j = 0; j < QK; ++j) { q[i * QK + j] = (int8_t)blk[2 + j]; s += (int8_t)blk[2 + j]; }
      sum[i] = s;
#endif
      d[i] = F16ToF32(LoadU16(blk));  // the rounded scale, as ggml's vec_dot uses it
    }
  }
};

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
inline float Hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Σ over blocks of d_w·d_x·(w_q · x_q); vpdpbusd multiplies u8 by s8, so |x| meets w·sign(x)
float DotQ8(const uint8_t* w, const int8_t* xq, const float* xd, int64_t nb) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    __m256i x0 = _mm256_loadu_si256((const __m256i*)(xq + b * QK));
    __m256i x1 = _mm256_loadu_si256((const __m256i*)(xq + b * QK + QK));
    __m256i w0 = _mm256_loadu_si256((const __m256i*)(w + b * kQ8Bytes + 2));
    __m256i w1 = _mm256_loadu_si256((const __m256i*)(w + b * kQ8Bytes + kQ8Bytes + 2));
    __m256i p0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x0, x0), _mm256_sign_epi8(w0, x0));
    __m256i p1 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x1, x1), _mm256_sign_epi8(w1, x1));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(F16ToF32(LoadU16(w + b * kQ8Bytes)) * xd[b]), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(F16ToF32(LoadU16(w + b * kQ8Bytes + kQ8Bytes)) * xd[b + 1]), _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; b < nb; ++b) {
    __m256i x0 = _mm256_loadu_si256((const __m256i*)(xq + b * QK));
    __m256i w0 = _mm256_loadu_si256((const __m256i*)(w + b * kQ8Bytes + 2));
    __m256i p0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x0, x0), _mm256_sign_epi8(w0, x0));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(F16ToF32(LoadU16(w + b * kQ8Bytes)) * xd[b]), _mm256_cvtepi32_ps(p0), acc0);
  }
  return Hsum256(_mm256_add_ps(acc0, acc1));
}

float DotQ4(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb);

// Two blocks per 512-bit vector: |x| meets w·sign(x) (AVX512BW masked negate), the two blocks'
// scales fill the two halves of the scale vector
inline __m512 ScalePair(float s0, float s1) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(s0)), _mm256_set1_ps(s1), 1);
}

float DotQ8Wide(const uint8_t* w, const int8_t* xq, const float* xd, int64_t nb) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512();
  int64_t b = 0;
  auto pair = [&](int64_t b2) {
    const uint8_t* wb = w + b2 * kQ8Bytes;
    __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)(wb + 2))),
                                    _mm256_loadu_si256((const __m256i*)(wb + kQ8Bytes + 2)), 1);
    __m512i xv = _mm512_loadu_si512(xq + b2 * QK);
    __m512i sw = _mm512_mask_sub_epi8(wv, _mm512_movepi8_mask(xv), zero, wv);
    __m512i p = _mm512_dpbusd_epi32(zero, _mm512_abs_epi8(xv), sw);
    __m512 sc = ScalePair(F16ToF32(LoadU16(wb)) * xd[b2], F16ToF32(LoadU16(wb + kQ8Bytes)) * xd[b2 + 1]);
    return _mm512_mul_ps(sc, _mm512_cvtepi32_ps(p));
  };
  for (; b + 4 <= nb; b += 4) {
    acc0 = _mm512_add_ps(acc0, pair(b));
    acc1 = _mm512_add_ps(acc1, pair(b + 2));
  }
  for (; b + 2 <= nb; b += 2) acc0 = _mm512_add_ps(acc0, pair(b));
  float s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  if (b < nb) s += DotQ8(w + b * kQ8Bytes, xq + b * QK, xd + b, nb - b);
  return s;
}

float DotQ4Wide(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512();
  const __m128i m = _mm_set1_epi8(0x0f);
  float corr = 0.0f;
  int64_t b = 0;
  auto pair = [&](int64_t b2) {
    const uint8_t* wb = w + b2 * kQ4Bytes;
    __m128i r0 = _mm_loadu_si128((const __m128i*)(wb + 2)), r1 = _mm_loadu_si128((const __m128i*)(wb + kQ4Bytes + 2));
    __m256i q0 = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(r0, 4), m), _mm_and_si128(r0, m));
    __m256i q1 = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(r1, 4), m), _mm_and_si128(r1, m));
    __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
    __m512i p = _mm512_dpbusd_epi32(zero, wv, _mm512_loadu_si512(xq + b2 * QK));
    const float s0 = F16ToF32(LoadU16(wb)) * xd[b2], s1 = F16ToF32(LoadU16(wb + kQ4Bytes)) * xd[b2 + 1];
    corr += s0 * (float)xs[b2] + s1 * (float)xs[b2 + 1];
    return _mm512_mul_ps(ScalePair(s0, s1), _mm512_cvtepi32_ps(p));
  };
  for (; b + 4 <= nb; b += 4) {
    acc0 = _mm512_add_ps(acc0, pair(b));
    acc1 = _mm512_add_ps(acc1, pair(b + 2));
  }
  for (; b + 2 <= nb; b += 2) acc0 = _mm512_add_ps(acc0, pair(b));
  float s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) - 8.0f * corr;
  if (b < nb) s += DotQ4(w + b * kQ4Bytes, xq + b * QK, xd + b, xs + b, nb - b);
  return s;
}

inline __m256i UnpackQ4(const uint8_t* qs) {
  const __m128i m = _mm_set1_epi8(0x0f);
  __m128i b = _mm_loadu_si128((const __m128i*)qs);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
}

// Σ d_w·d_x·(q·x_q − 8·Σx_q): the nibbles are already unsigned for vpdpbusd, the offset comes after
float DotQ4(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float corr = 0.0f;
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const uint8_t* w0 = w + b * kQ4Bytes;
    const uint8_t* w1 = w0 + kQ4Bytes;
    __m256i p0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), UnpackQ4(w0 + 2), _mm256_loadu_si256((const __m256i*)(xq + b * QK)));
    __m256i p1 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), UnpackQ4(w1 + 2), _mm256_loadu_si256((const __m256i*)(xq + b * QK + QK)));
    float s0 = F16ToF32(LoadU16(w0)) * xd[b], s1 = F16ToF32(LoadU16(w1)) * xd[b + 1];
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(s0), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(s1), _mm256_cvtepi32_ps(p1), acc1);
    corr += s0 * (float)xs[b] + s1 * (float)xs[b + 1];
  }
  for (; b < nb; ++b) {
    const uint8_t* w0 = w + b * kQ4Bytes;
    __m256i p0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), UnpackQ4(w0 + 2), _mm256_loadu_si256((const __m256i*)(xq + b * QK)));
    float s0 = F16ToF32(LoadU16(w0)) * xd[b];
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(s0), _mm256_cvtepi32_ps(p0), acc0);
    corr += s0 * (float)xs[b];
  }
  return Hsum256(_mm256_add_ps(acc0, acc1)) - 8.0f * corr;
}

// R x rows (2..4) against one weight row, two blocks per 512-bit vector: each weight pair and its
// scales are loaded once for all rows (an odd last block goes through the one-row 256-bit kernel)
template <int R>
void DotQ8RowsWide(const uint8_t* w, const int8_t* xq, const float* xd, int64_t k, int64_t nb, float* out) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const uint8_t* wb = w + b * kQ8Bytes;
    __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)(wb + 2))),
                                    _mm256_loadu_si256((const __m256i*)(wb + kQ8Bytes + 2)), 1);
    const float d0 = F16ToF32(LoadU16(wb)), d1 = F16ToF32(LoadU16(wb + kQ8Bytes));
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      __m512i xv = _mm512_loadu_si512(xq + r * k + b * QK);
      __m512i sw = _mm512_mask_sub_epi8(wv, _mm512_movepi8_mask(xv), zero, wv);
      __m512i p = _mm512_dpbusd_epi32(zero, _mm512_abs_epi8(xv), sw);
      acc[r] = _mm512_fmadd_ps(ScalePair(d0 * xd[r * nb + b], d1 * xd[r * nb + b + 1]), _mm512_cvtepi32_ps(p), acc[r]);
    }
  }
  float tail[R];
  for (int r = 0; r < R; ++r) tail[r] = 0.0f;
  if (b < nb)
    for (int r = 0; r < R; ++r) tail[r] = DotQ8(w + b * kQ8Bytes, xq + r * k + b * QK, xd + r * nb + b, 1);
  for (int r = 0; r < R; ++r) out[r] = _mm512_reduce_add_ps(acc[r]) + tail[r];
}

template <int R>
void DotQ4RowsWide(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t k, int64_t nb, float* out) {
  __m512 acc[R];
  float corr[R];
  for (int r = 0; r < R; ++r) { acc[r] = _mm512_setzero_ps(); corr[r] = 0.0f; }
  const __m512i zero = _mm512_setzero_si512();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const uint8_t* wb = w + b * kQ4Bytes;
    __m512i wv = _mm512_inserti64x4(_mm512_castsi256_si512(UnpackQ4(wb + 2)), UnpackQ4(wb + kQ4Bytes + 2), 1);
    const float d0 = F16ToF32(LoadU16(wb)), d1 = F16ToF32(LoadU16(wb + kQ4Bytes));
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      __m512i p = _mm512_dpbusd_epi32(zero, wv, _mm512_loadu_si512(xq + r * k + b * QK));
      const float s0 = d0 * xd[r * nb + b], s1 = d1 * xd[r * nb + b + 1];
      acc[r] = _mm512_fmadd_ps(ScalePair(s0, s1), _mm512_cvtepi32_ps(p), acc[r]);
      corr[r] += s0 * (float)xs[r * nb + b] + s1 * (float)xs[r * nb + b + 1];
    }
  }
  float tail[R];
  for (int r = 0; r < R; ++r) tail[r] = 0.0f;
  if (b < nb)
    for (int r = 0; r < R; ++r) tail[r] = DotQ4(w + b * kQ4Bytes, xq + r * k + b * QK, xd + r * nb + b, xs + r * nb + b, 1);
  for (int r = 0; r < R; ++r) out[r] = _mm512_reduce_add_ps(acc[r]) - 8.0f * corr[r] + tail[r];
}
#define DSLLM_MULTIROW 1
#else
float DotQ8(const uint8_t* w, const int8_t* xq, const float* xd, int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += kQ8Bytes) {
    int32_t s = 0;
    for (int j = 0; j < QK; ++j) s += (int8_t)w[2 + j] * xq[b * QK + j];
    acc += F16ToF32(LoadU16(w)) * xd[b] * (float)s;
  }
  return acc;
}
float DotQ4(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += kQ4Bytes) {
    int32_t s = 0;
    for (int j = 0; j < QK / 2; ++j) s += (w[2 + j] & 0x0f) * xq[b * QK + j] + (w[2 + j] >> 4) * xq[b * QK + j + QK / 2];
    acc += F16ToF32(LoadU16(w)) * xd[b] * (float)(s - 8 * xs[b]);
  }
  return acc;
}
#endif

// f32 x against bf16/f16 weights widened in registers
template <int F>
float Dot16(const uint8_t* w8, const float* x, int64_t k) {
  const uint16_t* w = (const uint16_t*)w8;  // Uint8Array views from JS typed arrays of 16-bit data are 2-aligned
  int64_t i = 0;
  float tail = 0.0f;
#if defined(__AVX512F__)
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  auto widen = [&](int64_t e) {
    if (F == kF32) return _mm512_loadu_ps((const float*)w8 + e);
    __m256i h = _mm256_loadu_si256((const __m256i*)(w + e));
    if (F == kBF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
  };
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  for (; i + 64 <= k; i += 64) {
    acc0 = _mm512_fmadd_ps(widen(i), _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(widen(i + 16), _mm512_loadu_ps(x + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(widen(i + 32), _mm512_loadu_ps(x + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(widen(i + 48), _mm512_loadu_ps(x + i + 48), acc3);
  }
  acc0 = _mm512_add_ps(acc0, acc2); acc1 = _mm512_add_ps(acc1, acc3);
  for (; i + 32 <= k; i += 32) {
    acc0 = _mm512_fmadd_ps(widen(i), _mm512_loadu_ps(x + i), acc0);
    acc1 = _mm512_fmadd_ps(widen(i + 16), _mm512_loadu_ps(x + i + 16), acc1);
  }
  for (; i + 16 <= k; i += 16) acc0 = _mm512_fmadd_ps(widen(i), _mm512_loadu_ps(x + i), acc0);
  tail = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
#endif
  for (; i < k; ++i) {
    if (F == kF32) { float f; std::memcpy(&f, w8 + 4 * i, 4); tail += f * x[i]; continue; }
    uint16_t h; std::memcpy(&h, w + i, 2);
    tail += (F == kBF16 ? Bf16ToF32(h) : F16ToF32(h)) * x[i];
  }
  return tail;
}

}  // namespace
}  // namespace dsllm
