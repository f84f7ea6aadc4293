// Quantized and 16-bit weights for inference: GGUF's Q8_0/Q4_0 block formats (quantize, dequantize,
// embedding rows) and y = x·Wᵀ with W [n, k] in bf16, f16, q8_0 or q4_0 and x f32 [rows, k].
//
// Block formats (as ggml's block_q8_0 / block_q4_0, 32 elements each):
//   q8_0: f16 d, int8 q[32]                          x = d·q
//   q4_0: f16 d, uint8 qs[16] (lo nibble = element j, hi nibble = element j+16)   x = d·(q − 8)
// Quantization rounds as ggml's reference quantizers (quantize_row_q8_0_ref / q4_0_ref).
//
// The matmul has two modes, chosen by the caller (TypeScript decides):
//   dot  (few rows: decode, memory-bound): x rows are quantized to q8_0 blocks once, as ggml does, and
//        each weight block is dotted with int8 VNNI (vpdpbusd) straight from storage; bf16/f16 weights
//        are widened to f32 in registers against f32 x (no rounding of x). Threads split the outputs.
//   gemm (many rows: prefill, compute-bound): weights are dequantized panel by panel to bf16 (f32 for
//        f16 weights, which bf16 would round) and fed to the packed GEMM of gemm_core.h with x rounded
//        to bf16 (AVX512-BF16 dot products, f32 accumulation).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#include "common.h"
#include "gemm.h"
#include "parallel.h"

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
      QuantizeQ8Block(x + i * QK, blk);
      d[i] = F16ToF32(LoadU16(blk));  // the rounded scale, as ggml's vec_dot uses it
      int32_t s = 0;
      for (int j = 0; j < QK; ++j) { q[i * QK + j] = (int8_t)blk[2 + j]; s += (int8_t)blk[2 + j]; }
      sum[i] = s;
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

// R x rows (2..4) against one weight row: the weight block and its scale are loaded once for all
template <int R>
void DotQ8Rows(const uint8_t* w, const int8_t* xq, const float* xd, int64_t k, int64_t nb, float* out) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const float dw = F16ToF32(LoadU16(w + b * kQ8Bytes));
    __m256i wq = _mm256_loadu_si256((const __m256i*)(w + b * kQ8Bytes + 2));
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      __m256i x = _mm256_loadu_si256((const __m256i*)(xq + r * k + b * QK));
      __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x, x), _mm256_sign_epi8(wq, x));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xd[r * nb + b]), _mm256_cvtepi32_ps(p), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r] = Hsum256(acc[r]);
}

template <int R>
void DotQ4Rows(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t k, int64_t nb, float* out) {
  __m256 acc[R];
  float corr[R];
  for (int r = 0; r < R; ++r) { acc[r] = _mm256_setzero_ps(); corr[r] = 0.0f; }
  for (int64_t b = 0; b < nb; ++b) {
    const float dw = F16ToF32(LoadU16(w + b * kQ4Bytes));
    __m256i wq = UnpackQ4(w + b * kQ4Bytes + 2);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), wq, _mm256_loadu_si256((const __m256i*)(xq + r * k + b * QK)));
      const float s = dw * xd[r * nb + b];
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(s), _mm256_cvtepi32_ps(p), acc[r]);
      corr[r] += s * (float)xs[r * nb + b];
    }
  }
  for (int r = 0; r < R; ++r) out[r] = Hsum256(acc[r]) - 8.0f * corr[r];
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

thread_local QuantX tlsX;

void MatmulDot(float* y, const float* x, int64_t rows, const uint8_t* w, int fmt, int64_t n, int64_t k) {
  const bool quant = fmt == kQ8 || fmt == kQ4;
  const int64_t nb = k / QK, rb = RowBytes(fmt, k);
  QuantX& X = tlsX;
  if (quant) X.Build(x, rows, k);
  // each thread takes a range of output features; a weight row stays in L1 while every x row meets it
  int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, rb * rows));
  parallel_for(n, grain, [&](int64_t j0, int64_t j1, int) {
    for (int64_t j = j0; j < j1; ++j) {
      const uint8_t* wr = w + j * rb;
#if defined(DSLLM_MULTIROW)
      if (quant && rows > 1) {  // groups of up to 4 rows share each weight block's load and scale
        float v[4];
        for (int64_t r = 0; r < rows; r += 4) {
          const int R = (int)std::min<int64_t>(4, rows - r);
          const int8_t* xq = X.q.data() + r * k;
          const float* xd = X.d.data() + r * nb;
          const int32_t* xs = X.sum.data() + r * nb;
          if (fmt == kQ8) {
            if (R == 4) DotQ8Rows<4>(wr, xq, xd, k, nb, v);
            else if (R == 3) DotQ8Rows<3>(wr, xq, xd, k, nb, v);
            else if (R == 2) DotQ8Rows<2>(wr, xq, xd, k, nb, v);
            else v[0] = DotQ8(wr, xq, xd, nb);
          } else {
            if (R == 4) DotQ4Rows<4>(wr, xq, xd, xs, k, nb, v);
            else if (R == 3) DotQ4Rows<3>(wr, xq, xd, xs, k, nb, v);
            else if (R == 2) DotQ4Rows<2>(wr, xq, xd, xs, k, nb, v);
            else v[0] = DotQ4(wr, xq, xd, xs, nb);
          }
          for (int i = 0; i < R; ++i) y[(r + i) * n + j] = v[i];
        }
        continue;
      }
#endif
      for (int64_t r = 0; r < rows; ++r) {
        float v;
        switch (fmt) {
          case kQ8: v = DotQ8(wr, X.q.data() + r * k, X.d.data() + r * nb, nb); break;
          case kQ4: v = DotQ4(wr, X.q.data() + r * k, X.d.data() + r * nb, X.sum.data() + r * nb, nb); break;
          case kBF16: v = Dot16<kBF16>(wr, x + r * k, k); break;
          case kF32: v = Dot16<kF32>(wr, x + r * k, k); break;
          default: v = Dot16<kF16>(wr, x + r * k, k); break;
        }
        y[r * n + j] = v;
      }
    }
  });
}

// ---- gemm mode --------------------------------------------------------------------------------

thread_local std::vector<uint16_t> tlsXb, tlsPanel16;
thread_local std::vector<float> tlsPanel32;

void MatmulGemm(float* y, const float* x, int64_t rows, const uint8_t* w, int fmt, int64_t n, int64_t k) {
  GemmParams p;
  p.m = rows; p.k = k; p.transB = true;
  p.lda = k; p.ldb = k; p.ldc = n;
  if (fmt == kBF16 || fmt == kF32) {  // already a GEMM operand
    p.n = n; p.a = x; p.b = w; p.bBf16 = fmt == kBF16; p.c = y; p.bf16 = fmt == kBF16;
    Gemm(p);
    return;
  }
  const bool wide = fmt == kF16;  // f16 → f32 panels (bf16 would round the weights)
  // x → bf16 once, not once per panel
  if (!wide) {
    tlsXb.resize(rows * k);
    uint16_t* xb = tlsXb.data();
    parallel_for(rows, 1, [&](int64_t r0, int64_t r1, int) {
      for (int64_t i = r0 * k; i < r1 * k; ++i) {
        uint32_t u; std::memcpy(&u, x + i, 4);
        xb[i] = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40) : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
      }
    });
    p.a = xb; p.aBf16 = true; p.bf16 = true;
  } else {
    p.a = x;
  }
  // panels of at most ~4 MB of weights, a multiple of 64 rows
  const int64_t esz = wide ? 4 : 2;
  int64_t P = std::max<int64_t>(64, ((4 << 20) / (esz * k)) / 64 * 64);
  P = std::min(P, n);
  if (wide) tlsPanel32.resize(P * k); else tlsPanel16.resize(P * k);
  const int64_t rb = RowBytes(fmt, k);
  for (int64_t j0 = 0; j0 < n; j0 += P) {
    const int64_t pn = std::min(P, n - j0);
    float* p32 = tlsPanel32.data();
    uint16_t* p16 = tlsPanel16.data();
    parallel_for(pn, 8, [&](int64_t a, int64_t b, int) {
      std::vector<float> tmp(wide ? 0 : k);
      for (int64_t j = a; j < b; ++j) {
        if (wide) DequantRow(fmt, w + (j0 + j) * rb, k, p32 + j * k);
        else DequantRowBf16(fmt, w + (j0 + j) * rb, k, p16 + j * k, tmp.data());
      }
    });
    p.n = pn;
    p.b = wide ? (const void*)p32 : (const void*)p16;
    p.bBf16 = !wide;
    p.c = y + j0;
    Gemm(p);
  }
}

// ---- bindings ---------------------------------------------------------------------------------

struct Bytes { const uint8_t* ptr; size_t len; };

Bytes BytesArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  auto t = TypedArg(info, i, op, name);
  if (t.TypedArrayType() != napi_uint8_array) Fail(info.Env(), op, std::string("argument '") + name + "' must be a Uint8Array");
  auto a = t.As<Napi::Uint8Array>();
  return {a.Data(), a.ElementLength()};
}

int FmtArg(const Napi::CallbackInfo& info, size_t i, const char* op, int lo) {
  int64_t f = IntArg(info, i, op, "fmt");
  Require(info.Env(), f >= lo && f <= kQ4, op, "fmt must be a format code in [" + std::to_string(lo) + ", 4] (0 f32, 1 bf16, 2 f16, 3 q8_0, 4 q4_0), got " + std::to_string(f));
  return (int)f;
}

void RequireBlocks(Napi::Env env, const char* op, int fmt, int64_t k, const char* what) {
  if (fmt == kQ8 || fmt == kQ4)
    Require(env, k % QK == 0, op, std::string(what) + " (" + std::to_string(k) + ") must be a multiple of 32 for a block format");
}

// quantize(out: Uint8Array, x: Float32Array, fmt 3|4, n)
Napi::Value QuantizeJs(const Napi::CallbackInfo& info) {
  const char* op = "quantize";
  Napi::Env env = info.Env();
  Require(env, info.Length() == 4, op, "expects 4 arguments (out, x, fmt, n)");
  auto out = BytesArg(info, 0, op, "out");
  auto x = F32Arg(info, 1, op, "x");
  int fmt = FmtArg(info, 2, op, kQ8);
  int64_t n = IntArg(info, 3, op, "n");
  RequireBlocks(env, op, fmt, n, "n");
  NeedLen(env, op, "x", x, n);
  int64_t nb = n / QK, bb = fmt == kQ8 ? kQ8Bytes : kQ4Bytes;
  Require(env, (int64_t)out.len >= nb * bb, op, "argument 'out' holds " + std::to_string(out.len) + " bytes, needs " + std::to_string(nb * bb));
  uint8_t* o = (uint8_t*)out.ptr;
  parallel_for(nb, 1024, [&](int64_t b0, int64_t b1, int) {
    for (int64_t b = b0; b < b1; ++b) {
      if (fmt == kQ8) QuantizeQ8Block(x.ptr + b * QK, o + b * bb);
      else QuantizeQ4Block(x.ptr + b * QK, o + b * bb);
    }
  });
  return env.Undefined();
}

// dequantize(out: Float32Array, w: Uint8Array, fmt 1..4, n)
Napi::Value DequantizeJs(const Napi::CallbackInfo& info) {
  const char* op = "dequantize";
  Napi::Env env = info.Env();
  Require(env, info.Length() == 4, op, "expects 4 arguments (out, w, fmt, n)");
  auto out = F32Arg(info, 0, op, "out");
  auto w = BytesArg(info, 1, op, "w");
  int fmt = FmtArg(info, 2, op, kF32);
  int64_t n = IntArg(info, 3, op, "n");
  RequireBlocks(env, op, fmt, n, "n");
  NeedLen(env, op, "out", out, n);
  Require(env, (int64_t)w.len >= RowBytes(fmt, n), op, "argument 'w' holds " + std::to_string(w.len) + " bytes, needs " + std::to_string(RowBytes(fmt, n)));
  const int64_t chunk = 4096;  // elements per task, a multiple of the block size
  parallel_for((n + chunk - 1) / chunk, 16, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t e0 = c * chunk, len = std::min(chunk, n - e0);
      DequantRow(fmt, w.ptr + RowBytes(fmt, e0), len, out.ptr + e0);
    }
  });
  return env.Undefined();
}

// embedRows(out: Float32Array [N,k], ids: Int32Array [N], w: Uint8Array [V,k] in fmt, fmt, N, k, V)
Napi::Value EmbedRowsJs(const Napi::CallbackInfo& info) {
  const char* op = "embedRows";
  Napi::Env env = info.Env();
  Require(env, info.Length() == 7, op, "expects 7 arguments (out, ids, w, fmt, N, k, V)");
  auto out = F32Arg(info, 0, op, "out");
  auto ids = I32Arg(info, 1, op, "ids");
  auto w = BytesArg(info, 2, op, "w");
  int fmt = FmtArg(info, 3, op, kF32);
  int64_t N = IntArg(info, 4, op, "N"), k = IntArg(info, 5, op, "k"), V = IntArg(info, 6, op, "V");
  RequireBlocks(env, op, fmt, k, "k");
  NeedLen(env, op, "out", out, N * k);
  NeedLen(env, op, "ids", ids, N);
  const int64_t rb = RowBytes(fmt, k);
  Require(env, (int64_t)w.len >= V * rb, op, "argument 'w' holds " + std::to_string(w.len) + " bytes, needs " + std::to_string(V * rb));
  for (int64_t i = 0; i < N; ++i)
    Require(env, ids.ptr[i] >= 0 && ids.ptr[i] < V, op, "ids[" + std::to_string(i) + "] = " + std::to_string(ids.ptr[i]) + " is outside [0, " + std::to_string(V) + ")");
  for (int64_t i = 0; i < N; ++i) DequantRow(fmt, w.ptr + ids.ptr[i] * rb, k, out.ptr + i * k);
  return env.Undefined();
}

// matmulQuant(y: Float32Array [rows,n], x: Float32Array [rows,k], w: Uint8Array [n,k] in fmt, fmt 0..4, rows, n, k, mode 0 dot | 1 gemm)
Napi::Value MatmulQuantJs(const Napi::CallbackInfo& info) {
  const char* op = "matmulQuant";
  Napi::Env env = info.Env();
  Require(env, info.Length() == 8, op, "expects 8 arguments (y, x, w, fmt, rows, n, k, mode)");
  auto y = F32Arg(info, 0, op, "y");
  auto x = F32Arg(info, 1, op, "x");
  auto w = BytesArg(info, 2, op, "w");
  int fmt = FmtArg(info, 3, op, kF32);
  int64_t rows = IntArg(info, 4, op, "rows"), n = IntArg(info, 5, op, "n"), k = IntArg(info, 6, op, "k");
  int64_t mode = IntArg(info, 7, op, "mode");
  Require(env, mode <= 1, op, "mode must be 0 (dot) or 1 (gemm)");
  Require(env, rows < (1LL << 31) && n < (1LL << 31) && k < (1LL << 31), op, "rows, n and k must be below 2^31");
  RequireBlocks(env, op, fmt, k, "k");
  NeedLen(env, op, "y", y, rows * n);
  NeedLen(env, op, "x", x, rows * k);
  const int64_t need = n * RowBytes(fmt, k);
  Require(env, (int64_t)w.len >= need, op, "argument 'w' holds " + std::to_string(w.len) + " bytes, needs " + std::to_string(need));
  Require(env, (uintptr_t)w.ptr % (fmt == kF32 ? 4 : 2) == 0, op, std::string("argument 'w' must start at a byte offset that is a multiple of ") + (fmt == kF32 ? "4" : "2"));
  auto ov = [](const void* a, int64_t na, const void* b, int64_t nb2) {
    auto p = (uintptr_t)a, q = (uintptr_t)b;
    return na > 0 && nb2 > 0 && p < q + (uintptr_t)nb2 && q < p + (uintptr_t)na;
  };
  Require(env, !ov(y.ptr, rows * n * 4, x.ptr, rows * k * 4) && !ov(y.ptr, rows * n * 4, w.ptr, need), op, "y must not overlap x or w");
  if (rows == 0 || n == 0) return env.Undefined();
  if (k == 0) { std::fill(y.ptr, y.ptr + rows * n, 0.0f); return env.Undefined(); }
  try {
    if (mode == 0) MatmulDot(y.ptr, x.ptr, rows, w.ptr, fmt, n, k);
    else MatmulGemm(y.ptr, x.ptr, rows, w.ptr, fmt, n, k);
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "dsllm.matmulQuant: out of memory for scratch buffers");
  }
  return env.Undefined();
}

// streamRead(buf: Uint8Array): reads every byte once (threaded) and returns a checksum, to measure
// the memory bandwidth that bounds decoding
Napi::Value StreamReadJs(const Napi::CallbackInfo& info) {
  const char* op = "streamRead";
  auto b = BytesArg(info, 0, op, "buf");
  const int64_t lines = (int64_t)b.len / 64;
  std::vector<uint64_t> part(256, 0);
  parallel_for(lines, 4096, [&](int64_t l0, int64_t l1, int t) {
#if defined(__AVX512F__)
    __m512i acc = _mm512_setzero_si512(), acc2 = _mm512_setzero_si512();
    int64_t l = l0;
    for (; l + 2 <= l1; l += 2) {
      acc = _mm512_xor_si512(acc, _mm512_loadu_si512(b.ptr + l * 64));
      acc2 = _mm512_xor_si512(acc2, _mm512_loadu_si512(b.ptr + l * 64 + 64));
    }
    if (l < l1) acc = _mm512_xor_si512(acc, _mm512_loadu_si512(b.ptr + l * 64));
    part[t & 255] ^= (uint64_t)_mm512_reduce_add_epi64(_mm512_xor_si512(acc, acc2));
#else
    uint64_t s = 0;
    for (int64_t l = l0; l < l1; ++l) { uint64_t v; std::memcpy(&v, b.ptr + l * 64, 8); s ^= v; }
    part[t & 255] ^= s;
#endif
  });
  uint64_t s = 0;
  for (auto v : part) s ^= v;
  return Napi::Number::New(info.Env(), (double)(s & 0xffffffffu));
}

}  // namespace

void RegisterQuant(Napi::Env env, Napi::Object exports) {
  exports.Set("quantize", Napi::Function::New(env, QuantizeJs));
  exports.Set("dequantize", Napi::Function::New(env, DequantizeJs));
  exports.Set("embedRows", Napi::Function::New(env, EmbedRowsJs));
  exports.Set("matmulQuant", Napi::Function::New(env, MatmulQuantJs));
  exports.Set("streamRead", Napi::Function::New(env, StreamReadJs));
}

}  // namespace dsllm
