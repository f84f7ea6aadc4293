// The dot kernels of matmulQuant's dot mode: activations quantized to q8_0 blocks (QuantX), int8
// VNNI dot products against q8_0/q4_0 weight rows in ggml's numerics (tiles of weight rows × up to 4
// x rows, single rows for the rest), and f32 x against f32/bf16/f16 rows widened in registers.
// Included by quant.cc only.
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
//
// The quantized dots reproduce what llama.cpp's x86 CPU backend computes, to the bit where the inputs
// agree: x quantized by QuantizeActQ8 (as ggml's quantize_row_q8_0 / quantize_mat_q8_0), integer block
// dots (exact in any order), and the f32 part in ggml's order:
//   Q8_0 (llamafile's tinyBLAS_Q0_AVX, which takes every Q8_0 matmul on x86): per output 8 f32 lanes,
//     lane L = fma(d_w·d_x, Σ_{t=4L..4L+3} w_t·x_t, lane) over the blocks in order, then the lanes
//     summed as (l_{i+4} + l_i) for i < 4, (s0 + s2) + (s1 + s3).
//   Q4_0 (ggml's repacked q4_0_8x8 gemv/gemm, which AVX2 machines use for weight matrices of 8k rows):
//     per output one f32 chain acc = fma(Σ (q−8)·x_q, d_w·d_x, acc) over the blocks in order.
// d_w·d_x is one f32 product of the two f16 scales widened. Scalar, 256- and 512-bit forms are
// bit-identical (tested against the TypeScript twin). Kernels take a tile of weight rows at a time
// (4 for Q8_0, 16 for Q4_0) and up to 4 x rows; single rows finish a matrix.

// x rows quantized to q8_0: per block its scale, the sum of its quants (Q4_0's −8 offset) and 32 quants
struct QuantX {
  std::vector<float> d;
  std::vector<int32_t> sum;
  std::vector<int8_t> q;
  void Build(const float* x, int64_t rows, int64_t k) {
    const int64_t nb = k / QK;
    d.resize(rows * nb); sum.resize(rows * nb); q.resize(rows * k + 64);
    for (int64_t i = 0; i < rows * nb; ++i) {
#if defined(__AVX512F__) && defined(__AVX512BW__)
      sum[i] = QuantizeActQ8Vec(x + i * QK, &q[i * QK], &d[i]);
#else
      sum[i] = QuantizeActQ8(x + i * QK, &q[i * QK], &d[i]);
#endif
    }
  }
};

// tinyBLAS's horizontal sum of 8 lanes
inline float Hsum8(const float* l) {
  const float s0 = l[4] + l[0], s1 = l[5] + l[1], s2 = l[6] + l[2], s3 = l[7] + l[3];
  return (s0 + s2) + (s1 + s3);
}

constexpr int kQ8Tile = 4, kQ4Tile = 16;

#if defined(__AVX512VNNI__) && defined(__AVX512VL__) && defined(__AVX512BW__)
inline float Hsum256(__m256 v) {  // = Hsum8 on the lanes
  __m128 s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// one weight row: the 8 lanes of one ymm are tinyBLAS's 8 lanes; vpdpbusd multiplies u8 by s8, so
// |x| meets w·sign(x)
float DotQ8One(const uint8_t* w, const int8_t* xq, const float* xd, int64_t nb) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, w += kQ8Bytes) {
    __m256i x = _mm256_loadu_si256((const __m256i*)(xq + b * QK));
    __m256i wq = _mm256_loadu_si256((const __m256i*)(w + 2));
    __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(x, x), _mm256_sign_epi8(wq, x));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(F16ToF32(LoadU16(w)) * xd[b]), _mm256_cvtepi32_ps(p), acc);
  }
  return Hsum256(acc);
}

// A tile's rows are one contiguous run of bytes that the kernels read as 4 or 16 short interleaved
// streams, which the hardware prefetchers do not follow (measured 7–12 GB/s on matrices beyond the
// caches, against 23–27 for one row at a time): while block b of this tile is used, the same share
// of the next tile's run is prefetched.
inline void PrefetchNextTile(const uint8_t* w, int64_t tileBytes, int64_t b, int64_t perBlock) {
  const uint8_t* p = w + tileBytes + b * perBlock;
  for (int64_t o = 0; o < perBlock; o += 64) _mm_prefetch((const char*)(p + o), _MM_HINT_T0);
}

inline __m512 ScalePair(float s0, float s1) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(s0)), _mm256_set1_ps(s1), 1);
}

// 4 weight rows (rb bytes apart) × R x rows: two weight rows per zmm (each half one output's 8
// lanes) against the x block broadcast to both halves; y[r·ldy + i] for row i of the tile
template <int R>
void DotQ8Tile(const uint8_t* w, int64_t rb, const int8_t* xq, const float* xd, int64_t k, int64_t nb, float* y, int64_t ldy) {
  __m512 acc[2][R];
  for (int p = 0; p < 2; ++p) for (int r = 0; r < R; ++r) acc[p][r] = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchNextTile(w, kQ8Tile * rb, b, kQ8Tile * kQ8Bytes);
    __m512i wv[2];
    __m512 dw[2];
    for (int p = 0; p < 2; ++p) {
      const uint8_t* r0 = w + 2 * p * rb + b * kQ8Bytes;
      const uint8_t* r1 = r0 + rb;
      wv[p] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)(r0 + 2))),
                                 _mm256_loadu_si256((const __m256i*)(r1 + 2)), 1);
      dw[p] = ScalePair(F16ToF32(LoadU16(r0)), F16ToF32(LoadU16(r1)));
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      __m512i xv = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)(xq + r * k + b * QK)));
      const __m512i ax = _mm512_abs_epi8(xv);
      const __mmask64 neg = _mm512_movepi8_mask(xv);
      const __m512 dx = _mm512_set1_ps(xd[r * nb + b]);
      for (int p = 0; p < 2; ++p) {
        __m512i prod = _mm512_dpbusd_epi32(zero, ax, _mm512_mask_sub_epi8(wv[p], neg, zero, wv[p]));
        acc[p][r] = _mm512_fmadd_ps(_mm512_mul_ps(dw[p], dx), _mm512_cvtepi32_ps(prod), acc[p][r]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < 2; ++p) {
      y[r * ldy + 2 * p] = Hsum256(_mm512_castps512_ps256(acc[p][r]));
      y[r * ldy + 2 * p + 1] = Hsum256(_mm512_extractf32x8_ps(acc[p][r], 1));
    }
}

inline __m256i UnpackQ4(const uint8_t* qs) {
  const __m128i m = _mm_set1_epi8(0x0f);
  __m128i b = _mm_loadu_si128((const __m128i*)qs);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
}

// one weight row: Σ q·x_q with the nibbles unsigned for vpdpbusd, minus 8·Σx_q (exact), then the chain
float DotQ4One(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += kQ4Bytes) {
    __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), UnpackQ4(w + 2), _mm256_loadu_si256((const __m256i*)(xq + b * QK)));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    const int32_t isum = _mm_cvtsi128_si32(s) - 8 * xs[b];
    acc = std::fma((float)isum, F16ToF32(LoadU16(w)) * xd[b], acc);
  }
  return acc;
}

// 16 weight rows × R x rows, one output per f32 lane. Four zmm of quants per block, zmm g holding
// rows g, g+4, g+8, g+12 in its 128-bit lanes as 16 low nibbles (elements 0–15) and 16 high ones
// (16–31) against the x block's halves broadcast; the four zmm of partial sums then reduce
// (unpack 32, unpack 64) to one zmm whose lane i is row i's whole block sum. The 16 scales come by
// one gather.
template <int R>
void DotQ4Tile(const uint8_t* w, int64_t rb, const int8_t* xq, const float* xd, const int32_t* xs, int64_t k, int64_t nb, float* y, int64_t ldy) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512(), m4 = _mm512_set1_epi8(0x0f);
  const __m512i rowOff = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32((int)rb));
  for (int64_t b = 0; b < nb; ++b) {
    PrefetchNextTile(w, kQ4Tile * rb, b, kQ4Tile * kQ4Bytes);
    const uint8_t* wb = w + b * kQ4Bytes;
    __m512i lo[4], hi[4];
    for (int g = 0; g < 4; ++g) {
      __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i*)(wb + g * rb + 2)));
      v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i*)(wb + (g + 4) * rb + 2)), 1);
      v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i*)(wb + (g + 8) * rb + 2)), 2);
      v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i*)(wb + (g + 12) * rb + 2)), 3);
      lo[g] = _mm512_and_si512(v, m4);
      hi[g] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    const __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_i32gather_epi32(rowOff, (const void*)wb, 1)));
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const int8_t* xb = xq + r * k + b * QK;
      const __m512i xlo = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i*)xb));
      const __m512i xhi = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i*)(xb + 16)));
      __m512i p[4];
      for (int g = 0; g < 4; ++g) p[g] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, lo[g], xlo), hi[g], xhi);
      __m512i q01 = _mm512_add_epi32(_mm512_unpacklo_epi32(p[0], p[1]), _mm512_unpackhi_epi32(p[0], p[1]));
      __m512i q23 = _mm512_add_epi32(_mm512_unpacklo_epi32(p[2], p[3]), _mm512_unpackhi_epi32(p[2], p[3]));
      __m512i isum = _mm512_add_epi32(_mm512_unpacklo_epi64(q01, q23), _mm512_unpackhi_epi64(q01, q23));
      isum = _mm512_sub_epi32(isum, _mm512_set1_epi32(8 * xs[r * nb + b]));
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, _mm512_set1_ps(xd[r * nb + b])), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) _mm512_storeu_ps(y + r * ldy, acc[r]);
}
#define DSLLM_QTILES 1
#else
// plain C, bit-identical to the vector forms above (std::fma is the same fused operation)
float DotQ8One(const uint8_t* w, const int8_t* xq, const float* xd, int64_t nb) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t b = 0; b < nb; ++b, w += kQ8Bytes) {
    const float s = F16ToF32(LoadU16(w)) * xd[b];
    for (int L = 0; L < 8; ++L) {
      int32_t p = 0;
      for (int t = 4 * L; t < 4 * L + 4; ++t) p += (int8_t)w[2 + t] * xq[b * QK + t];
      lane[L] = std::fma(s, (float)p, lane[L]);
    }
  }
  return Hsum8(lane);
}
float DotQ4One(const uint8_t* w, const int8_t* xq, const float* xd, const int32_t* xs, int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += kQ4Bytes) {
    int32_t s = 0;
    for (int j = 0; j < QK / 2; ++j) s += (w[2 + j] & 0x0f) * xq[b * QK + j] + (w[2 + j] >> 4) * xq[b * QK + j + QK / 2];
    acc = std::fma((float)(s - 8 * xs[b]), F16ToF32(LoadU16(w)) * xd[b], acc);
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
