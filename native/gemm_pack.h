// Packing for the GEMM: copies a block of op(A) or op(B) from its storage (f32 or bf16, any leading
// dimension, transposed or not) into the contiguous panel layout the micro-kernels stream through.
//
// A panel is W consecutive rows of op(A) (W = MR) or columns of op(B) (W = NR), laid out k-major:
//   f32 panels:  out[k][W]            (one float per row/column per k)
//   bf16 panels: out[k/2][W] of u32   (low half = bf16 at even k, high half = odd k), the pair layout
//                                      vdpbf16ps multiplies; an odd K is padded with a zero.
// Rows/columns past the matrix edge are zero, so the micro-kernel never needs an M/N edge case in
// its inner loop, only when it stores.
//
// Two storage cases per panel: "direct" when the panel's W entries for one k are contiguous in
// storage (op(A) transposed, op(B) not), "transposed" when each of the W rows is contiguous in k
// (op(A) not transposed, op(B) transposed); the latter goes through 16x16 register transposes.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <immintrin.h>

namespace dsllm {
namespace gemm {

// A matrix in storage: element (r, c) lives at p[r*ld + c], f32 or bf16 bit patterns.
struct Src {
  const void* p;
  int64_t ld;
  bool bf16;
};

// Round-to-nearest-even f32 -> bf16 bits (NaN stays NaN), for the portable paths.
static inline uint16_t RoundBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}
static inline float Bf16ToF32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
static inline float SrcAt(const Src& s, int64_t r, int64_t c) {
  if (s.bf16) return Bf16ToF32(((const uint16_t*)s.p)[r * s.ld + c]);
  return ((const float*)s.p)[r * s.ld + c];
}
// value as the bf16 compute path sees it: rounded to bf16
static inline uint16_t SrcAtBf16(const Src& s, int64_t r, int64_t c) {
  if (s.bf16) return ((const uint16_t*)s.p)[r * s.ld + c];
  return RoundBf16(((const float*)s.p)[r * s.ld + c]);
}

// ---- portable packers (reference layout; used by the fallback build and for odd pieces) ------

// out[k][W] = op(k, x0 + x) for x < w, 0 beyond; `direct` says op(k, x) = S(k, x) else S(x, k).
// `round` rounds to bf16 precision (bf16 mode on a CPU without AVX512-BF16 runs the f32 kernel).
static inline void PackF32Scalar(float* out, int W, const Src& s, bool round, bool direct, int64_t k0, int64_t kc, int64_t x0, int w) {
  for (int64_t k = 0; k < kc; ++k)
    for (int x = 0; x < W; ++x) {
      float v = x < w ? (direct ? SrcAt(s, k0 + k, x0 + x) : SrcAt(s, x0 + x, k0 + k)) : 0.0f;
      out[k * W + x] = round ? Bf16ToF32(RoundBf16(v)) : v;
    }
}

static inline void PackBf16Scalar(uint32_t* out, int W, const Src& s, bool direct, int64_t k0, int64_t kc, int64_t x0, int w) {
  int64_t kc2 = (kc + 1) / 2;
  for (int64_t q = 0; q < kc2; ++q)
    for (int x = 0; x < W; ++x) {
      uint32_t lo = 0, hi = 0;
      if (x < w) {
        int64_t k = k0 + 2 * q;
        lo = direct ? SrcAtBf16(s, k, x0 + x) : SrcAtBf16(s, x0 + x, k);
        if (2 * q + 1 < kc) hi = direct ? SrcAtBf16(s, k + 1, x0 + x) : SrcAtBf16(s, x0 + x, k + 1);
      }
      out[q * W + x] = lo | (hi << 16);
    }
}

#if defined(__AVX512F__)

static inline __mmask16 Mask16(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n < 0 ? 0 : n)) - 1u); }

// 16 values of storage row r starting at column c (masked), widened to f32
static inline __m512 Load16(const Src& s, int64_t r, int64_t c, __mmask16 m) {
  if (s.bf16) {
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t*)s.p + r * s.ld + c);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  return _mm512_maskz_loadu_ps(m, (const float*)s.p + r * s.ld + c);
}

// Prefetch of storage row r at column c (a little ahead of a strided walk; past the end is harmless).
static inline void PrefetchRow(const Src& s, int64_t r, int64_t c) {
  const char* p = s.bf16 ? (const char*)((const uint16_t*)s.p + r * s.ld + c) : (const char*)((const float*)s.p + r * s.ld + c);
  _mm_prefetch(p, _MM_HINT_T0);
}

// In-register transpose of a 16x16 block of 32-bit elements.
static inline void Transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0x88);
    t[4 + i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0xdd);
    t[8 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0x88);
    t[12 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0xdd);
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xdd);
  }
}

// f32 values rounded to bf16 precision (RNE; NaN kept), for bf16 mode on CPUs without AVX512-BF16
static inline __m512 RoundVecBf16(__m512 x) {
  __m512i u = _mm512_castps_si512(x);
  __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))));
  r = _mm512_and_si512(r, _mm512_set1_epi32((int)0xffff0000u));
  __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_blend_ps(nan, _mm512_castsi512_ps(r), x);
}

// f32 panels, direct case: panel p gets out[p*stride + k*W + x] = S(k0 + k, x0 + p*W + x). Walks
// storage row by row across all panels: one contiguous read per row instead of a strided walk
// down each panel (which misses the TLB once per row when rows are kilobytes apart).
static inline void PackF32Direct(float* out, int64_t stride, int W, const Src& s, bool round, int64_t k0, int64_t kc,
                                 int64_t x0, int64_t xEnd, int64_t np) {
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t p = 0; p < np; ++p) {
      float* o = out + p * stride + k * W;
      int64_t xs = x0 + p * W;
      for (int v = 0; v < W; v += 16) {
        __m512 x = Load16(s, k0 + k, xs + v, Mask16(xEnd - xs - v));
        if (round) x = RoundVecBf16(x);
        _mm512_mask_storeu_ps(o + v, Mask16(W - v), x);
      }
    }
  }
}

// f32 panel, transposed case: out[k][W] = S(x0 + x, k0 + k)
static inline void PackF32Trans(float* out, int W, const Src& s, bool round, int64_t k0, int64_t kc, int64_t x0, int w) {
  __m512 r[16];
  for (int v = 0; v < W; v += 16) {
    int rows = w - v;  // valid storage rows in this 16-row slab
    __mmask16 sm = Mask16(W - v);
    for (int64_t kb = 0; kb < kc; kb += 16) {
      __mmask16 km = Mask16(kc - kb);
      for (int i = 0; i < 16; ++i) {
        if (i < rows) {
          r[i] = Load16(s, x0 + v + i, k0 + kb, km);
          PrefetchRow(s, x0 + v + i, k0 + kb + 64);  // the rows are read as 14 strided streams
        } else {
          r[i] = _mm512_setzero_ps();
        }
      }
      Transpose16(r);
      int kn = (int)(kc - kb < 16 ? kc - kb : 16);
      for (int i = 0; i < kn; ++i) _mm512_mask_storeu_ps(out + (kb + i) * W + v, sm, round ? RoundVecBf16(r[i]) : r[i]);
    }
  }
}

#if defined(__AVX512BF16__)
// Two f32 vectors (values at k and k+1 for 16 rows/columns) -> 16 interleaved bf16 pairs.
static inline __m512i PairsOf(__m512 lo, __m512 hi) {
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                       23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  __m512i packed = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);  // [lo0..lo15, hi0..hi15]
  return _mm512_permutexvar_epi16(idx, packed);
}
// 32 consecutive values (one storage row, in k) -> 16 pairs in k order
static inline __m512i RowPairs(__m512 a, __m512 b) { return (__m512i)_mm512_cvtne2ps_pbh(b, a); }

// bf16 panels, direct case: out[p*stride + q*W + x] = pair(S(k0+2q, xs+x), S(k0+2q+1, xs+x)), row-wise
static inline void PackBf16Direct(uint32_t* out, int64_t stride, int W, const Src& s, int64_t k0, int64_t kc,
                                  int64_t x0, int64_t xEnd, int64_t np) {
  int64_t kc2 = (kc + 1) / 2;
  for (int64_t q = 0; q < kc2; ++q) {
    bool odd = 2 * q + 1 >= kc;
    for (int64_t p = 0; p < np; ++p) {
      uint32_t* o = out + p * stride + q * W;
      int64_t xs = x0 + p * W;
      for (int v = 0; v < W; v += 16) {
        __mmask16 m = Mask16(xEnd - xs - v);
        __m512i pairs;
        if (s.bf16) {  // already bf16: interleave the two rows' 16-bit values without a round trip
          const uint16_t* r0 = (const uint16_t*)s.p + (k0 + 2 * q) * s.ld + xs + v;
          __m512i lo = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r0));
          __m512i hi = odd ? _mm512_setzero_si512() : _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r0 + s.ld));
          pairs = _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16));
        } else {
          __m512 lo = Load16(s, k0 + 2 * q, xs + v, m);
          __m512 hi = odd ? _mm512_setzero_ps() : Load16(s, k0 + 2 * q + 1, xs + v, m);
          pairs = PairsOf(lo, hi);
        }
        _mm512_mask_storeu_epi32(o + v, Mask16(W - v), pairs);
      }
    }
  }
}

// bf16 panel, transposed case: each storage row is contiguous in k, so 32 k-values become 16
// pairs in order; 16 rows of those are transposed as 32-bit elements.
static inline void PackBf16Trans(uint32_t* out, int W, const Src& s, int64_t k0, int64_t kc, int64_t x0, int w) {
  int64_t kc2 = (kc + 1) / 2;
  __m512 r[16];
  for (int v = 0; v < W; v += 16) {
    int rows = w - v;
    __mmask16 sm = Mask16(W - v);
    for (int64_t kb = 0; kb < kc; kb += 32) {
      __mmask16 m0 = Mask16(kc - kb), m1 = Mask16(kc - kb - 16);
      __mmask32 m32 = kc - kb >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << (kc - kb)) - 1u);
      for (int i = 0; i < 16; ++i) {
        if (i < rows) {
          PrefetchRow(s, x0 + v + i, k0 + kb + 128);
          if (s.bf16) {  // 32 consecutive bf16 values are 16 pairs as they lie
            const uint16_t* row = (const uint16_t*)s.p + (x0 + v + i) * s.ld + k0 + kb;
            r[i] = _mm512_castsi512_ps(_mm512_maskz_loadu_epi16(m32, row));
          } else {
            __m512 a = Load16(s, x0 + v + i, k0 + kb, m0);
            __m512 b = Load16(s, x0 + v + i, k0 + kb + 16, m1);
            r[i] = _mm512_castsi512_ps(RowPairs(a, b));
          }
        } else {
          r[i] = _mm512_setzero_ps();
        }
      }
      Transpose16(r);
      int64_t q0 = kb / 2;
      int qn = (int)(kc2 - q0 < 16 ? kc2 - q0 : 16);
      for (int i = 0; i < qn; ++i) _mm512_mask_storeu_ps(out + (q0 + i) * W + v, sm, r[i]);
    }
  }
}
#endif  // __AVX512BF16__
#endif  // __AVX512F__

// Entry point. Packs np panels of W entries each (entries x0 + p*W ..., clipped at xEnd and
// zero-filled past it) for k in [k0, k0 + kc): panel p starts at out + p*stride (4-byte units).
// bf16: pair panels; else f32 panels, rounded to bf16 precision when `round`.
// `direct`: storage row = k (op(A) transposed / op(B) not); else storage row = entry.
static inline void PackPanels(void* out, int64_t stride, int W, const Src& s, bool direct, bool bf16, bool round,
                              int64_t k0, int64_t kc, int64_t x0, int64_t xEnd, int64_t np) {
#if defined(__AVX512F__)
#if defined(__AVX512BF16__)
  if (bf16) {
    if (direct) PackBf16Direct((uint32_t*)out, stride, W, s, k0, kc, x0, xEnd, np);
    else
      for (int64_t p = 0; p < np; ++p)
        PackBf16Trans((uint32_t*)out + p * stride, W, s, k0, kc, x0 + p * W, (int)std::min<int64_t>(W, xEnd - x0 - p * W));
    return;
  }
#endif
  if (direct) PackF32Direct((float*)out, stride, W, s, round, k0, kc, x0, xEnd, np);
  else
    for (int64_t p = 0; p < np; ++p)
      PackF32Trans((float*)out + p * stride, W, s, round, k0, kc, x0 + p * W, (int)std::min<int64_t>(W, xEnd - x0 - p * W));
#else
  for (int64_t p = 0; p < np; ++p) {
    int w = (int)std::min<int64_t>(W, xEnd - x0 - p * W);
    if (bf16) PackBf16Scalar((uint32_t*)out + p * stride, W, s, direct, k0, kc, x0 + p * W, w);
    else PackF32Scalar((float*)out + p * stride, W, s, round, direct, k0, kc, x0 + p * W, w);
  }
#endif
}

}  // namespace gemm
}  // namespace dsllm
