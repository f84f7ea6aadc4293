// Flash-style attention (FlashAttention-2 forward and backward) on CPU, f32, with GQA, causal
// masking relative to the end of the key range (KV-cache decode) and strided KV caches.
//
// Everything is built from one register-blocked micro-kernel,
//     C[r, 0:w] (=|+=) Σ_k X[r·xr + k·xk] · Y[k·ldy + 0:w]        (r < R rows, w ≤ 128 columns)
// which broadcasts one scalar of X per row and FMAs it with vectors of a row of Y. With X = rows of
// K and Y = a packed Qᵀ it is S = K·Qᵀ (keys × query lanes); with X = a probability tile and Y = rows
// of V it is O += P·V; with the strides swapped it is Pᵀ·dO, dSᵀ·Q, dS·K. Tiles are 64 keys by up to
// 64 query rows, so per thread memory is O(64·64) and no T×T matrix ever exists.
//
// Forward: one work item = (batch, kv head, block of ≤ 64 "lanes"), a lane being a (query row,
// query head of that kv head's group) pair, so K and V are read once for the whole GQA group and a
// decode step (Tq = 1) still fills lanes with the group's heads. Lanes sit in vector lanes, so the
// online-softmax statistics are vertical vector ops (no horizontal reductions). When there are too
// few items to keep every thread busy (decode), the key range is split into chunks whose partial
// (max, sum, O) are merged afterwards in chunk order (flash-decoding).
//
// Backward: one work item = (batch, kv head) owns dK, dV of that kv head and dQ of its group's query
// heads, so nothing is shared between threads and the result does not depend on the thread count.
// When there are fewer (batch, kv head) pairs than threads, each pair's key blocks are split into
// chunks; chunk 0 adds into dq directly, the others into zeroed partial buffers that are added to dq
// in chunk order afterwards (deterministic for a given thread count).
#include "common.h"
#include "parallel.h"
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <vector>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 headers build _mm512_max_ps & co. on a self-initialised "undefined" vector,
// which -O3 reports as maybe-uninitialized at every inlined call site.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace dsllm {
namespace {

constexpr int kBk = 64;       // keys per tile
constexpr int kBq = 64;       // query rows per backward tile, and most lanes per forward tile
constexpr int kMaxCols = 128; // columns per micro-kernel call (≤ 8 vectors)
constexpr float kLog2e = 1.44269504088896340736f;
constexpr float kLn2 = 0.69314718055994530942f;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// ---- 16-lane vector layer: AVX-512, or plain loops the compiler may vectorize ----------------------
#if defined(__AVX512F__)
using vf = __m512;
using vm = __mmask16;
inline vf vzero() { return _mm512_setzero_ps(); }
inline vf vset1(float x) { return _mm512_set1_ps(x); }
inline vf vload(const float* p) { return _mm512_loadu_ps(p); }
inline vf vloadm(const float* p, vm m) { return _mm512_maskz_loadu_ps(m, p); }
inline void vstore(float* p, vf x) { _mm512_storeu_ps(p, x); }
inline void vstorem(float* p, vm m, vf x) { _mm512_mask_storeu_ps(p, m, x); }
inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
inline vf vfms(vf a, vf b, vf c) { return _mm512_fmsub_ps(a, b, c); }  // a·b − c
inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
inline float vhsum(vf a) { return _mm512_reduce_add_ps(a); }
inline vf vmaskz(vm m, vf a) { return _mm512_maskz_mov_ps(m, a); }
inline vf vblend(vm m, vf a, vf b) { return _mm512_mask_blend_ps(m, a, b); }  // m ? b : a
// lanes where j ≤ pos[lane]
inline vm vle(int32_t j, const int32_t* pos) {
  return _mm512_cmple_epi32_mask(_mm512_set1_epi32(j), _mm512_loadu_si512(pos));
}
// lanes where x == −inf
inline vm visneginf(vf x) { return _mm512_cmp_ps_mask(x, vset1(kNegInf), _CMP_EQ_OQ); }
// 2^x: x = n + f with |f| ≤ 1/2, 2^f by its degree-7 Taylor series (truncation < 6e-9 relative),
// 2^n applied by vscalefps. x ≤ −200 (and −inf) gives exactly 0; NaN stays NaN.
inline vf vexp2(vf x) {
  x = _mm512_max_ps(vset1(-200.f), x);  // NaN in the second operand is returned as is
  vf n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf f = vsub(x, n);
  vf p = vset1(1.525273380405984e-05f);
  p = vfma(p, f, vset1(1.5403530393381608e-04f));
  p = vfma(p, f, vset1(1.3333558146428443e-03f));
  p = vfma(p, f, vset1(9.6181291076284772e-03f));
  p = vfma(p, f, vset1(5.5504108664821580e-02f));
  p = vfma(p, f, vset1(2.4022650695910071e-01f));
  p = vfma(p, f, vset1(6.9314718055994531e-01f));
  p = vfma(p, f, vset1(1.0f));
  return _mm512_scalef_ps(p, n);
}
#elif defined(__AVX2__) && defined(__FMA__)
// Two AVX2 registers per 16-lane vector.
struct vf { __m256 lo, hi; };
using vm = uint32_t;
inline __m256i mask8(uint32_t bits) {  // lane i all-ones where bit i is set
  const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), sel), sel);
}
inline vf vzero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
inline vf vset1(float a) { return {_mm256_set1_ps(a), _mm256_set1_ps(a)}; }
inline vf vload(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
inline vf vloadm(const float* p, vm m) {
  if (m == 0xFFFF) return vload(p);
  return {_mm256_maskload_ps(p, mask8(m & 0xFF)), _mm256_maskload_ps(p + 8, mask8(m >> 8))};
}
inline void vstore(float* p, vf a) { _mm256_storeu_ps(p, a.lo); _mm256_storeu_ps(p + 8, a.hi); }
inline void vstorem(float* p, vm m, vf a) {
  if (m == 0xFFFF) return vstore(p, a);
  _mm256_maskstore_ps(p, mask8(m & 0xFF), a.lo);
  _mm256_maskstore_ps(p + 8, mask8(m >> 8), a.hi);
}
inline vf vfma(vf a, vf b, vf c) { return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; }
inline vf vfms(vf a, vf b, vf c) { return {_mm256_fmsub_ps(a.lo, b.lo, c.lo), _mm256_fmsub_ps(a.hi, b.hi, c.hi)}; }
inline vf vmul(vf a, vf b) { return {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; }
inline vf vadd(vf a, vf b) { return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }
inline vf vsub(vf a, vf b) { return {_mm256_sub_ps(a.lo, b.lo), _mm256_sub_ps(a.hi, b.hi)}; }
inline vf vmax(vf a, vf b) { return {_mm256_max_ps(a.lo, b.lo), _mm256_max_ps(a.hi, b.hi)}; }
inline float vhsum(vf a) {
  __m256 s = _mm256_add_ps(a.lo, a.hi);
  __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  t = _mm_add_ps(t, _mm_movehl_ps(t, t));
  t = _mm_add_ss(t, _mm_movehdup_ps(t));
  return _mm_cvtss_f32(t);
}
inline vf vblend(vm m, vf a, vf b) {  // m ? b : a
  return {_mm256_blendv_ps(a.lo, b.lo, _mm256_castsi256_ps(mask8(m & 0xFF))),
          _mm256_blendv_ps(a.hi, b.hi, _mm256_castsi256_ps(mask8(m >> 8)))};
}
inline vf vmaskz(vm m, vf a) { return vblend(m, vzero(), a); }
inline vm vle(int32_t j, const int32_t* pos) {
  const __m256i jv = _mm256_set1_epi32(j);
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pos));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pos + 8));
  // j ≤ pos  ⇔  not (j > pos)
  vm gt = (vm)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(jv, lo))) |
          (vm)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(jv, hi))) << 8;
  return ~gt & 0xFFFF;
}
inline vm visneginf(vf a) {
  const __m256 ni = _mm256_set1_ps(kNegInf);
  return (vm)_mm256_movemask_ps(_mm256_cmp_ps(a.lo, ni, _CMP_EQ_OQ)) |
         (vm)_mm256_movemask_ps(_mm256_cmp_ps(a.hi, ni, _CMP_EQ_OQ)) << 8;
}
// The AVX-512 path's polynomial; 2^n goes into the exponent bits, x < −126 gives 0 (not a
// subnormal), NaN stays NaN.
inline __m256 exp2_8(__m256 x) {
  const __m256 tiny = _mm256_cmp_ps(x, _mm256_set1_ps(-126.f), _CMP_LT_OQ);
  const __m256 c = _mm256_max_ps(x, _mm256_set1_ps(-126.f));  // NaN x gives −126 here, restored below
  const __m256 n = _mm256_round_ps(c, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(c, n);
  __m256 p = _mm256_set1_ps(1.525273380405984e-05f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.5403530393381608e-04f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.3333558146428443e-03f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.6181291076284772e-03f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.5504108664821580e-02f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.4022650695910071e-01f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.9314718055994531e-01f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 r = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  r = _mm256_andnot_ps(tiny, r);
  return _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}
inline vf vexp2(vf x) { return {exp2_8(x.lo), exp2_8(x.hi)}; }
#else
// Portable scalar fallback.
struct vf { float x[16]; };
using vm = uint32_t;
inline vf vzero() { vf r; for (int i = 0; i < 16; ++i) r.x[i] = 0.f; return r; }
inline vf vset1(float a) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = a; return r; }
inline vf vload(const float* p) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = p[i]; return r; }
inline vf vloadm(const float* p, vm m) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = (m >> i & 1) ? p[i] : 0.f; return r; }
inline void vstore(float* p, vf a) { for (int i = 0; i < 16; ++i) p[i] = a.x[i]; }
inline void vstorem(float* p, vm m, vf a) { for (int i = 0; i < 16; ++i) if (m >> i & 1) p[i] = a.x[i]; }
inline vf vfma(vf a, vf b, vf c) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = a.x[i] * b.x[i] + c.x[i]; return r; }
inline vf vfms(vf a, vf b, vf c) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = a.x[i] * b.x[i] - c.x[i]; return r; }
inline vf vmul(vf a, vf b) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = a.x[i] * b.x[i]; return r; }
inline vf vadd(vf a, vf b) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = a.x[i] + b.x[i]; return r; }
inline vf vsub(vf a, vf b) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = a.x[i] - b.x[i]; return r; }
inline vf vmax(vf a, vf b) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = a.x[i] > b.x[i] ? a.x[i] : b.x[i]; return r; }
inline float vhsum(vf a) { float s = 0.f; for (int i = 0; i < 16; ++i) s += a.x[i]; return s; }
inline vf vmaskz(vm m, vf a) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = (m >> i & 1) ? a.x[i] : 0.f; return r; }
inline vf vblend(vm m, vf a, vf b) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = (m >> i & 1) ? b.x[i] : a.x[i]; return r; }
inline vm vle(int32_t j, const int32_t* pos) { vm m = 0; for (int i = 0; i < 16; ++i) m |= (vm)(j <= pos[i]) << i; return m; }
inline vm visneginf(vf a) { vm m = 0; for (int i = 0; i < 16; ++i) m |= (vm)(a.x[i] == kNegInf) << i; return m; }
inline vf vexp2(vf a) { vf r; for (int i = 0; i < 16; ++i) r.x[i] = std::exp2(a.x[i] < -200.f ? -200.f : a.x[i]); return r; }
#endif

inline vm tail_mask(int64_t n) { return n >= 16 ? (vm)0xFFFF : (vm)((1u << n) - 1u); }

// ---- the micro-kernel --------------------------------------------------------------------------
// C[r, :] = (accumulate ? C[r, :]·rowscale[r] : 0) + Σ_{k<K} X[r·xr + k·xk] · Y[k·ldy + :], for
// r < R and NV vectors of columns, the last one masked by `tail` (loads and stores never touch
// columns outside it). rowscale may be null (1).
// The accumulators are named variables (a<row><vec>) rather than an array: GCC 12 keeps an
// array of __m512 in memory and stores all of it on every k step, which halves the FMA rate.
#define DSLLM_FOR_V(M, r) M(r, 0) M(r, 1) M(r, 2) M(r, 3) M(r, 4) M(r, 5) M(r, 6) M(r, 7)
#define DSLLM_FOR_RV(M) DSLLM_FOR_V(M, 0) DSLLM_FOR_V(M, 1) DSLLM_FOR_V(M, 2) DSLLM_FOR_V(M, 3) \
  DSLLM_FOR_V(M, 4) DSLLM_FOR_V(M, 5) DSLLM_FOR_V(M, 6) DSLLM_FOR_V(M, 7)
#define DSLLM_ON(r, v) if constexpr (R > r && NV > v)
#define DSLLM_DECL(r, v) vf a##r##v = vzero();
#define DSLLM_LOADC(r, v) DSLLM_ON(r, v) {                                                   \
    a##r##v = v == NV - 1 ? vloadm(C + r * ldc + 16 * v, tail) : vload(C + r * ldc + 16 * v); \
    if (rowscale) a##r##v = vmul(a##r##v, vset1(rowscale[r]));                               \
  }
#define DSLLM_LOADY(r, v) vf y##v = vzero(); \
  if constexpr (NV > v) y##v = v == NV - 1 ? vloadm(y + 16 * v, tail) : vload(y + 16 * v);
#define DSLLM_FMA(r, v) DSLLM_ON(r, v) a##r##v = vfma(x, y##v, a##r##v);
#define DSLLM_ROW(r) if constexpr (R > r) { vf x = vset1(xp[r * xr]); DSLLM_FOR_V(DSLLM_FMA, r) }
#define DSLLM_STORE(r, v) DSLLM_ON(r, v) {                         \
    if (v == NV - 1) vstorem(C + r * ldc + 16 * v, tail, a##r##v); \
    else vstore(C + r * ldc + 16 * v, a##r##v);                    \
  }

template <int R, int NV>
void micro(int64_t K, const float* X, int64_t xr, int64_t xk, const float* Y, int64_t ldy,
           float* C, int64_t ldc, vm tail, bool accumulate, const float* rowscale) {
  static_assert(R >= 1 && R <= 8 && NV >= 1 && NV <= 8, "micro: R and NV in [1, 8]");
  DSLLM_FOR_RV(DSLLM_DECL)
  if (accumulate) { DSLLM_FOR_RV(DSLLM_LOADC) }
  const float* xp = X;
  for (int64_t k = 0; k < K; ++k) {
    const float* y = Y + k * ldy;
    DSLLM_FOR_V(DSLLM_LOADY, 0)
    DSLLM_ROW(0) DSLLM_ROW(1) DSLLM_ROW(2) DSLLM_ROW(3) DSLLM_ROW(4) DSLLM_ROW(5) DSLLM_ROW(6) DSLLM_ROW(7)
    xp += xk;
  }
  DSLLM_FOR_RV(DSLLM_STORE)
}

using MicroFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, vm, bool, const float*);

// Rows per call for NV column vectors: about 24 accumulators (of 32 registers), at least 8 in
// flight to cover the FMA latency. Without AVX-512 a vector is two of 16 ymm registers.
#if defined(__AVX512F__)
constexpr int kRows[9] = {0, 8, 8, 8, 6, 4, 4, 3, 3};
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int kRows[9] = {0, 6, 3, 2, 1, 1, 1, 1, 1};
#else
constexpr int kRows[9] = {0, 4, 2, 1, 1, 1, 1, 1, 1};
#endif

template <int NV>
MicroFn pick_rows(int r) {
  switch (r) {
    case 1: return micro<1, NV>;
    case 2: return micro<2, NV>;
    case 3: return micro<3, NV>;
    case 4: if constexpr (kRows[NV] >= 4) return micro<4, NV>; else break;
    case 5: if constexpr (kRows[NV] >= 5) return micro<5, NV>; else break;
    case 6: if constexpr (kRows[NV] >= 6) return micro<6, NV>; else break;
    case 7: if constexpr (kRows[NV] >= 7) return micro<7, NV>; else break;
    case 8: if constexpr (kRows[NV] >= 8) return micro<8, NV>; else break;
  }
  return nullptr;
}

MicroFn pick(int r, int nv) {
  switch (nv) {
    case 1: return pick_rows<1>(r);
    case 2: return pick_rows<2>(r);
    case 3: return pick_rows<3>(r);
    case 4: return pick_rows<4>(r);
    case 5: return pick_rows<5>(r);
    case 6: return pick_rows<6>(r);
    case 7: return pick_rows<7>(r);
    default: return pick_rows<8>(r);
  }
}

// C[M × ncols] (=|+=) X·Y over K, cut into micro-kernel calls (see `micro` for the operands).
void tile_mm(int64_t M, int64_t K, int64_t ncols, const float* X, int64_t xr, int64_t xk,
             const float* Y, int64_t ldy, float* C, int64_t ldc, bool accumulate, const float* rowscale) {
  for (int64_t c0 = 0; c0 < ncols; c0 += kMaxCols) {
    int64_t w = std::min<int64_t>(kMaxCols, ncols - c0);
    int nv = (int)((w + 15) / 16);
    vm tail = tail_mask(w - 16 * (nv - 1));
    int rows = kRows[nv];
    MicroFn full = pick(rows, nv);
    int64_t r0 = 0;
    for (; r0 + rows <= M; r0 += rows)
      full(K, X + r0 * xr, xr, xk, Y + c0, ldy, C + r0 * ldc + c0, ldc, tail, accumulate, rowscale ? rowscale + r0 : nullptr);
    if (r0 < M)
      pick((int)(M - r0), nv)(K, X + r0 * xr, xr, xk, Y + c0, ldy, C + r0 * ldc + c0, ldc, tail, accumulate,
                              rowscale ? rowscale + r0 : nullptr);
  }
}

// dot product of two rows of length n
float row_dot(const float* a, const float* b, int64_t n) {
  vf s0 = vzero(), s1 = vzero();
  int64_t d = 0;
  for (; d + 32 <= n; d += 32) {
    s0 = vfma(vload(a + d), vload(b + d), s0);
    s1 = vfma(vload(a + d + 16), vload(b + d + 16), s1);
  }
  for (; d < n; d += 16) {
    vm m = tail_mask(n - d);
    s0 = vfma(vloadm(a + d, m), vloadm(b + d, m), s0);
  }
  return vhsum(vadd(s0, s1));
}

// dst[c·ldd + r] = rows[r][c]·scale for 16 rows (a null row reads as zeros) and c < ncols ≤ 16;
// dst rows are written 16 lanes wide. Packs Qᵀ, Kᵀ and Vᵀ tiles.
void transpose16(const float* const* rows, int64_t ncols, float scale, float* dst, int64_t ldd) {
#if defined(__AVX512F__)
  const vm cm = tail_mask(ncols);
  const vf sv = vset1(scale);
  vf r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = rows[i] ? vmul(vloadm(rows[i], cm), sv) : vzero();
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int h = 0; h < 16; h += 8)
    for (int i = 0; i < 4; ++i) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + 4 + i], 0x88);
      t[h + 4 + i] = _mm512_shuffle_f32x4(r[h + i], r[h + 4 + i], 0xdd);
    }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xdd);
  }
  for (int64_t c = 0; c < ncols; ++c) vstore(dst + c * ldd, r[c]);
#else
  for (int64_t c = 0; c < ncols; ++c)
    for (int i = 0; i < 16; ++i) dst[c * ldd + i] = rows[i] ? rows[i][c] * scale : 0.f;
#endif
}

// dst[d·ldd + t] = rows[t][d]·scale for t < 16·ngroups lanes and d < D.
void pack_transposed(const float* const* rows, int64_t ngroups, int64_t D, float scale, float* dst, int64_t ldd) {
  for (int64_t gi = 0; gi < ngroups; ++gi) {
    const float* rp[16];
    for (int64_t d0 = 0; d0 < D; d0 += 16) {
      for (int i = 0; i < 16; ++i) rp[i] = rows[16 * gi + i] ? rows[16 * gi + i] + d0 : nullptr;
      transpose16(rp, std::min<int64_t>(16, D - d0), scale, dst + d0 * ldd + 16 * gi, ldd);
    }
  }
}

// Per-thread scratch that persists across calls (the pool's threads live for the process), so a
// training step does not allocate.
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;
  float* get(size_t n) {
    if (n > cap) {
      std::free(p);
      size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p) { cap = 0; throw std::bad_alloc(); }
      cap = n;
    }
    return p;
  }
  ~Scratch() { std::free(p); }
};
thread_local Scratch tls_scratch;

inline int64_t up16(int64_t n) { return (n + 15) & ~(int64_t)15; }

// Prefetches n rows of `bytes` bytes, `stride` floats apart, into L2: the rows an item reads are
// one head's slice of [.., H, D] rows, a stride the hardware prefetcher does not follow.
inline void prefetch_rows(const float* p, int64_t n, int64_t stride, int64_t bytes) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < bytes; o += 64) __builtin_prefetch(reinterpret_cast<const char*>(p + r * stride) + o, 0, 2);
}

struct Shape {
  int64_t B, Tq, Tk, H, Hkv, D, kvCap;
  float scale;
  bool causal;
  int64_t g() const { return H / Hkv; }
  int64_t off() const { return Tk - Tq; }
};

// ---- forward -----------------------------------------------------------------------------------
struct Fwd {
  Shape s;
  float* out;
  float* lse;  // may be null
  const float *q, *k, *v;
  int64_t L, LW, nlb, nchunk, Dp;
  float* part;  // nchunk > 1: per (bh, lb, chunk) partial O [LW·Dp], m [LW], l [LW]
  int64_t part_stride() const { return LW * Dp + 2 * LW; }
};

// One (batch·kv head, lane block, key chunk) item.
void fwd_item(const Fwd& F, int64_t bh, int64_t lb, int64_t chunk) {
  const Shape& s = F.s;
  const int64_t D = s.D, g = s.g(), LW = F.LW, NL = LW / 16, Dp = F.Dp, ldkv = s.Hkv * D;
  const int64_t b = bh / s.Hkv, hkv = bh % s.Hkv;
  const int64_t l0 = lb * LW, nl = std::min(LW, F.L - l0);

  float* base = tls_scratch.get((size_t)(D * LW + kBk * LW + LW * Dp + 4 * LW));
  float* Qt = base;               // [D][LW] scaled queries, transposed
  float* St = Qt + D * LW;        // [kBk][LW] scores, then probabilities
  float* O = St + kBk * LW;       // [LW][Dp] unnormalised output
  float* m = O + LW * Dp;         // running max (log2 units)
  float* l = m + LW;              // running sum
  float* alpha = l + LW;          // rescale of O for the current key block
  int32_t* pos = reinterpret_cast<int32_t*>(alpha + LW);  // absolute position of each lane's query

  const float c2 = s.scale * kLog2e;  // scores in log2 units, so exp2 does the softmax
  const int64_t i_min = l0 / g, i_max = (l0 + nl - 1) / g;
  const float* rows[kBq];
  for (int64_t t = 0; t < LW; ++t) {
    if (t < nl) {
      int64_t lane = l0 + t, i = lane / g, h = hkv * g + lane % g;
      rows[t] = F.q + ((b * s.Tq + i) * s.H + h) * D;
      pos[t] = (int32_t)(s.off() + i);
    } else {
      rows[t] = nullptr;
      pos[t] = (int32_t)(s.off() + i_max);  // padding lanes: finite, never stored
    }
    m[t] = kNegInf;
    l[t] = 0.f;
  }
  pack_transposed(rows, NL, D, c2, Qt, LW);
  std::memset(O, 0, sizeof(float) * (size_t)(nl * Dp));

  const int64_t kend = s.causal ? std::min(s.Tk, s.off() + i_max + 1) : s.Tk;
  const int64_t nkb = (kend + kBk - 1) / kBk;
  const int64_t kb_lo = nkb * chunk / F.nchunk, kb_hi = nkb * (chunk + 1) / F.nchunk;
  const int64_t min_pos = s.off() + i_min;
  const float* kbase = F.k + (b * s.kvCap * s.Hkv + hkv) * D;
  const float* vbase = F.v + (b * s.kvCap * s.Hkv + hkv) * D;

  for (int64_t kb = kb_lo; kb < kb_hi; ++kb) {
    const int64_t j0 = kb * kBk, jn = std::min<int64_t>(kBk, kend - j0);
    const bool need_mask = s.causal && j0 + jn - 1 > min_pos;
    // S[j, lane] = (scaled) q_lane · k_j. Lanes are in position order, so on a diagonal tile the
    // lane vectors that cannot see any key of a row group are skipped (the softmax masks them).
    for (int64_t r0 = 0; r0 < jn; r0 += kRows[NL]) {
      const int64_t rn = std::min<int64_t>(kRows[NL], jn - r0);
      int64_t cs = 0;
      if (need_mask)
        while (cs + 16 < LW && pos[cs + 15] < j0 + r0) cs += 16;
      tile_mm(rn, D, LW - cs, kbase + (j0 + r0) * ldkv, ldkv, 1, Qt + cs, LW, St + r0 * LW + cs, LW, false, nullptr);
    }
    for (int64_t vi = 0; vi < NL; ++vi) {
      float* col = St + 16 * vi;
      vf m_old = vload(m + 16 * vi);
      vf mx0 = m_old, mx1 = vset1(kNegInf);
      int64_t j = 0;
      if (need_mask) {
        for (; j < jn; ++j) {
          vf x = vblend(vle((int32_t)(j0 + j), pos + 16 * vi), vset1(kNegInf), vload(col + j * LW));
          vstore(col + j * LW, x);
          mx0 = vmax(mx0, x);
        }
      } else {
        for (; j + 2 <= jn; j += 2) {
          mx0 = vmax(mx0, vload(col + j * LW));
          mx1 = vmax(mx1, vload(col + (j + 1) * LW));
        }
        for (; j < jn; ++j) mx0 = vmax(mx0, vload(col + j * LW));
      }
      vf mx = vmax(mx0, mx1);
      // a lane that has seen no key yet (only possible inside a later key chunk) keeps m = −inf;
      // subtracting 0 instead keeps its probabilities at exactly 0 rather than NaN
      vf ref = vblend(visneginf(mx), mx, vzero());
      vf a = vexp2(vsub(m_old, ref));
      vf sum0 = vzero(), sum1 = vzero();
      for (j = 0; j + 2 <= jn; j += 2) {
        vf p0 = vexp2(vsub(vload(col + j * LW), ref));
        vf p1 = vexp2(vsub(vload(col + (j + 1) * LW), ref));
        vstore(col + j * LW, p0);
        vstore(col + (j + 1) * LW, p1);
        sum0 = vadd(sum0, p0);
        sum1 = vadd(sum1, p1);
      }
      for (; j < jn; ++j) {
        vf p0 = vexp2(vsub(vload(col + j * LW), ref));
        vstore(col + j * LW, p0);
        sum0 = vadd(sum0, p0);
      }
      vstore(l + 16 * vi, vfma(vload(l + 16 * vi), a, vadd(sum0, sum1)));
      vstore(m + 16 * vi, mx);
      vstore(alpha + 16 * vi, a);
    }
    // O[lane, :] = O[lane, :]·alpha[lane] + Σ_j P[j, lane] v_j, over the keys the lanes can see
    const int64_t rpv = kRows[std::min<int64_t>(8, Dp / 16)];
    for (int64_t r0 = 0; r0 < nl; r0 += rpv) {
      const int64_t rn = std::min(rpv, nl - r0);
      const int64_t kn = need_mask ? std::max<int64_t>(0, std::min<int64_t>(jn, pos[r0 + rn - 1] - j0 + 1)) : jn;
      tile_mm(rn, kn, D, St + r0, 1, LW, vbase + j0 * ldkv, ldkv, O + r0 * Dp, Dp, true, alpha + r0);
    }
  }

  if (F.nchunk > 1) {
    float* P = F.part + ((bh * F.nlb + lb) * F.nchunk + chunk) * F.part_stride();
    std::memcpy(P, O, sizeof(float) * (size_t)(nl * Dp));
    std::memcpy(P + LW * Dp, m, sizeof(float) * (size_t)nl);
    std::memcpy(P + LW * Dp + LW, l, sizeof(float) * (size_t)nl);
    return;
  }
  for (int64_t t = 0; t < nl; ++t) {
    int64_t lane = l0 + t, i = lane / g, h = hkv * g + lane % g;
    float* orow = F.out + ((b * s.Tq + i) * s.H + h) * D;
    vf inv = vset1(1.f / l[t]);
    for (int64_t d = 0; d < D; d += 16) vstorem(orow + d, tail_mask(D - d), vmul(vloadm(O + t * Dp + d, tail_mask(D - d)), inv));
    if (F.lse) F.lse[(b * s.H + h) * s.Tq + i] = (m[t] + std::log2(l[t])) * kLn2;
  }
}

// Asks for the query rows of a later item: they are strided (one row per head), which the
// hardware prefetcher does not follow, and packing them is otherwise a string of cache misses.
void fwd_prefetch_q(const Fwd& F, int64_t bh, int64_t lb) {
  const Shape& s = F.s;
  const int64_t g = s.g(), b = bh / s.Hkv, hkv = bh % s.Hkv, l0 = lb * F.LW, nl = std::min(F.LW, F.L - l0);
  for (int64_t t = 0; t < nl; ++t) {
    int64_t lane = l0 + t, i = lane / g, h = hkv * g + lane % g;
    const char* row = reinterpret_cast<const char*>(F.q + ((b * s.Tq + i) * s.H + h) * s.D);
    for (int64_t off = 0; off < s.D * (int64_t)sizeof(float); off += 64) __builtin_prefetch(row + off, 0, 2);
  }
}

// Merges the key chunks of one (bh, lb) item in chunk order.
void fwd_merge(const Fwd& F, int64_t bh, int64_t lb) {
  const Shape& s = F.s;
  const int64_t D = s.D, g = s.g(), LW = F.LW, Dp = F.Dp;
  const int64_t b = bh / s.Hkv, hkv = bh % s.Hkv;
  const int64_t l0 = lb * LW, nl = std::min(LW, F.L - l0);
  const float* P0 = F.part + (bh * F.nlb + lb) * F.nchunk * F.part_stride();
  for (int64_t t = 0; t < nl; ++t) {
    float M = kNegInf;
    for (int64_t c = 0; c < F.nchunk; ++c) M = std::max(M, P0[c * F.part_stride() + LW * Dp + t]);
    int64_t lane = l0 + t, i = lane / g, h = hkv * g + lane % g;
    float* orow = F.out + ((b * s.Tq + i) * s.H + h) * D;
    float sum = 0.f;
    for (int64_t c = 0; c < F.nchunk; ++c) {
      const float* P = P0 + c * F.part_stride();
      float mc = P[LW * Dp + t];
      sum += mc == kNegInf ? 0.f : std::exp2(mc - M) * P[LW * Dp + LW + t];
    }
    vf inv = vset1(1.f / sum);
    for (int64_t d = 0; d < D; d += 16) {
      vm tm = tail_mask(D - d);
      vf acc = vzero();
      for (int64_t c = 0; c < F.nchunk; ++c) {
        const float* P = P0 + c * F.part_stride();
        float mc = P[LW * Dp + t];
        if (mc == kNegInf) continue;
        acc = vfma(vset1(std::exp2(mc - M)), vloadm(P + t * Dp + d, tm), acc);
      }
      vstorem(orow + d, tm, vmul(acc, inv));
    }
    if (F.lse) F.lse[(b * s.H + h) * s.Tq + i] = (M + std::log2(sum)) * kLn2;
  }
}

void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v, const Shape& s) {
  Fwd F;
  F.s = s; F.out = out; F.lse = lse; F.q = q; F.k = k; F.v = v;
  F.L = s.g() * s.Tq;
  F.LW = std::min<int64_t>(kBq, up16(F.L));
  F.nlb = (F.L + F.LW - 1) / F.LW;
  F.Dp = up16(s.D);
  const int64_t BH = s.B * s.Hkv, items = BH * F.nlb;
  const int nthr = num_threads();
  // few items (decode): split the keys so every thread has work; chunks of at least 2 key tiles
  F.nchunk = 1;
  const int64_t max_chunks = ((s.Tk + kBk - 1) / kBk) / 2;
  if (nthr > 1 && items < 2 * nthr && max_chunks > 1)
    F.nchunk = std::min<int64_t>(max_chunks, (2 * nthr + items - 1) / items);
  std::vector<float> part;
  if (F.nchunk > 1) part.resize((size_t)(items * F.nchunk * F.part_stride()));
  F.part = part.data();
  // item t → (lane block in zig-zag order, bh, chunk): causal lane blocks cost more the later they
  // sit, so pairing first and last keeps both halves of parallel_for's split equally heavy
  const int64_t nlb = F.nlb, nch = F.nchunk;
  auto item_of = [&](int64_t t, int64_t* bh, int64_t* lb, int64_t* chunk) {
    int64_t rest = t / nch, p = rest / BH;
    *chunk = t % nch;
    *bh = rest % BH;
    *lb = (p & 1) ? nlb - 1 - p / 2 : p / 2;
  };
  parallel_for(items * nch, 1, [&](int64_t b0, int64_t e0, int) {
    for (int64_t t = b0; t < e0; ++t) {
      int64_t bh, lb, chunk;
      if (t + 1 < e0) {
        item_of(t + 1, &bh, &lb, &chunk);
        fwd_prefetch_q(F, bh, lb);
      }
      item_of(t, &bh, &lb, &chunk);
      fwd_item(F, bh, lb, chunk);
    }
  });
  if (nch > 1)
    parallel_for(items, 1, [&](int64_t b0, int64_t e0, int) {
      for (int64_t t = b0; t < e0; ++t) fwd_merge(F, t / nlb, t % nlb);
    });
}

// ---- backward ----------------------------------------------------------------------------------
struct Bwd {
  Shape s;
  float *dq, *dk, *dv;
  const float *dout, *q, *k, *v, *out, *lse;
  int64_t nchunk;
  const int64_t* kb_bounds;  // nchunk + 1 key-tile boundaries
  float* dq_part;            // chunks 1.. add their dq here ((nchunk − 1) × dq size)
};

void bwd_item(const Bwd& F, int64_t bh, int64_t chunk) {
  const Shape& s = F.s;
  const int64_t D = s.D, g = s.g(), Tq = s.Tq, ldq = s.H * D, ldkv = s.Hkv * D, off = s.off();
  const int64_t b = bh / s.Hkv, hkv = bh % s.Hkv;
  float* base = tls_scratch.get((size_t)(2 * D * kBk + 2 * kBq * kBk + 2 * g * Tq));
  float* Kt = base;              // [D][kBk]
  float* Vt = Kt + D * kBk;      // [D][kBk]
  float* P = Vt + D * kBk;       // [kBq][kBk] probabilities
  float* dS = P + kBq * kBk;     // [kBq][kBk] dP, then scale·dS
  float* Dr = dS + kBq * kBk;    // [g][Tq] rowsum(dout ⊙ out)
  float* lse2 = Dr + g * Tq;     // [g][Tq] lse in log2 units

  const int64_t kb_lo = F.kb_bounds[chunk], kb_hi = F.kb_bounds[chunk + 1];
  const int64_t i_first = s.causal ? std::max<int64_t>(0, kb_lo * kBk - off) : 0;
  for (int64_t hg = 0; hg < g; ++hg) {
    const int64_t h = hkv * g + hg;
    for (int64_t i = i_first; i < Tq; ++i) {
      const int64_t row = ((b * Tq + i) * s.H + h) * D;
      if (i + 16 < Tq) {  // read ahead: these rows are first touched here
        prefetch_rows(F.dout + row + 16 * ldq, 1, 0, D * 4);
        prefetch_rows(F.out + row + 16 * ldq, 1, 0, D * 4);
      }
      Dr[hg * Tq + i] = row_dot(F.dout + row, F.out + row, D);
      lse2[hg * Tq + i] = F.lse[(b * s.H + h) * Tq + i] * kLog2e;
    }
  }

  const float c2 = s.scale * kLog2e;
  float* dqT = chunk == 0 ? F.dq : F.dq_part + (chunk - 1) * (s.B * Tq * ldq);
  for (int64_t kb = kb_lo; kb < kb_hi; ++kb) {
    const int64_t j0 = kb * kBk, jn = std::min<int64_t>(kBk, s.Tk - j0);
    const int64_t krow = (b * s.kvCap + j0) * ldkv + hkv * D;
    const float* kp = F.k + krow;
    const float* vp = F.v + krow;
    const float* krows[kBk];
    const float* vrows[kBk];
    for (int64_t j = 0; j < kBk; ++j) {
      krows[j] = j < jn ? kp + j * ldkv : nullptr;
      vrows[j] = j < jn ? vp + j * ldkv : nullptr;
    }
    pack_transposed(krows, kBk / 16, D, 1.f, Kt, kBk);
    pack_transposed(vrows, kBk / 16, D, 1.f, Vt, kBk);
    if (kb + 1 < kb_hi) {  // the next tile's keys and values, while this one computes
      const int64_t nn = std::min<int64_t>(kBk, s.Tk - j0 - kBk);
      prefetch_rows(kp + kBk * ldkv, nn, ldkv, D * 4);
      prefetch_rows(vp + kBk * ldkv, nn, ldkv, D * 4);
    }
    const int64_t first_row = s.causal ? std::max<int64_t>(0, j0 - off) : 0;  // queries before it see no key here
    float* dkp = F.dk + krow;
    float* dvp = F.dv + krow;
    for (int64_t hg = 0; hg < g; ++hg) {
      const int64_t h = hkv * g + hg;
      for (int64_t i0 = first_row; i0 < Tq; i0 += kBq) {
        const int64_t qn = std::min<int64_t>(kBq, Tq - i0);
        const int64_t qrow = (b * Tq + i0) * ldq + h * D;
        const float* qp = F.q + qrow;
        const float* dop = F.dout + qrow;
        // last key (within the tile) that query row i0 + r sees
        auto last_key = [&](int64_t r) { return s.causal ? std::min(off + i0 + r - j0, jn - 1) : jn - 1; };
        // S = q·kᵀ and dP = dout·vᵀ, only over the key vectors a row group can see
        for (int64_t r0 = 0; r0 < qn; r0 += kRows[4]) {
          const int64_t rn = std::min<int64_t>(kRows[4], qn - r0);
          const int64_t nc = up16(last_key(r0 + rn - 1) + 1);
          tile_mm(rn, D, nc, qp + r0 * ldq, ldq, 1, Kt, kBk, P + r0 * kBk, kBk, false, nullptr);
          tile_mm(rn, D, nc, dop + r0 * ldq, ldq, 1, Vt, kBk, dS + r0 * kBk, kBk, false, nullptr);
        }
        // P = exp(S·scale − lse), dS = scale·P ⊙ (dP − D_i); invisible keys get exact zeros
        const vf c2v = vset1(c2), sc = vset1(s.scale);
        for (int64_t r = 0; r < qn; ++r) {
          const int64_t i = i0 + r, lim = last_key(r);
          const vf l2 = vset1(lse2[hg * Tq + i]), Di = vset1(Dr[hg * Tq + i]);
          for (int64_t c = 0; c < kBk; c += 16) {
            float* pp = P + r * kBk + c;
            float* dp = dS + r * kBk + c;
            if (c > lim) { vstore(pp, vzero()); vstore(dp, vzero()); continue; }
            const vm vis = tail_mask(lim - c + 1);
            vf p = vmaskz(vis, vexp2(vfms(vload(pp), c2v, l2)));
            vstore(pp, p);
            vstore(dp, vmaskz(vis, vmul(vmul(p, vsub(vload(dp), Di)), sc)));
          }
        }
        // dV += Pᵀ·dout and dK += dSᵀ·q, each key row group from the first query that sees it
        const int64_t rkv = kRows[std::min<int64_t>(8, up16(D) / 16)];
        for (int64_t r0 = 0; r0 < jn; r0 += rkv) {
          const int64_t rn = std::min(rkv, jn - r0);
          const int64_t ks = s.causal ? std::min(qn, std::max<int64_t>(0, j0 + r0 - off - i0)) : 0;
          tile_mm(rn, qn - ks, D, P + ks * kBk + r0, 1, kBk, dop + ks * ldq, ldq, dvp + r0 * ldkv, ldkv, true, nullptr);
          tile_mm(rn, qn - ks, D, dS + ks * kBk + r0, 1, kBk, qp + ks * ldq, ldq, dkp + r0 * ldkv, ldkv, true, nullptr);
        }
        // dQ += dS·k over the keys each query row group sees
        for (int64_t r0 = 0; r0 < qn; r0 += rkv) {
          const int64_t rn = std::min(rkv, qn - r0);
          tile_mm(rn, last_key(r0 + rn - 1) + 1, D, dS + r0 * kBk, kBk, 1, kp, ldkv, dqT + qrow + r0 * ldq, ldq, true, nullptr);
        }
      }
    }
  }
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                        const float* v, const float* out, const float* lse, const Shape& s) {
  Bwd F;
  F.s = s; F.dq = dq; F.dk = dk; F.dv = dv; F.dout = dout; F.q = q; F.k = k; F.v = v; F.out = out; F.lse = lse;
  const int64_t BH = s.B * s.Hkv, nkb = (s.Tk + kBk - 1) / kBk;
  const int nthr = num_threads();
  F.nchunk = 1;
  if (nthr > 1 && BH < 4 * nthr)
    F.nchunk = std::min<int64_t>({nkb, 2 * (int64_t)nthr, (4 * nthr + BH - 1) / BH});
  // key-tile boundaries with equal work per chunk (causal: a tile's work is the queries that see it)
  std::vector<int64_t> bounds((size_t)F.nchunk + 1, 0);
  {
    std::vector<double> work((size_t)nkb + 1, 0.0);
    for (int64_t kb = 0; kb < nkb; ++kb) {
      double rows = s.causal ? (double)(s.Tq - std::max<int64_t>(0, kb * kBk - s.off())) : (double)s.Tq;
      work[kb + 1] = work[kb] + std::max(rows, 1.0);
    }
    int64_t kb = 0;
    for (int64_t c = 1; c < F.nchunk; ++c) {
      double target = work[nkb] * (double)c / (double)F.nchunk;
      while (kb < nkb && work[kb + 1] <= target) ++kb;
      bounds[c] = std::max(kb, bounds[c - 1]);
    }
    bounds[F.nchunk] = nkb;
  }
  F.kb_bounds = bounds.data();
  const int64_t nq = s.B * s.Tq * s.H * s.D;
  std::vector<float> part;
  if (F.nchunk > 1) part.assign((size_t)((F.nchunk - 1) * nq), 0.f);
  F.dq_part = part.data();
  const int64_t nch = F.nchunk;
  parallel_for(BH * nch, 1, [&](int64_t b0, int64_t e0, int) {
    for (int64_t t = b0; t < e0; ++t) bwd_item(F, t / nch, t % nch);
  });
  if (nch > 1)
    parallel_for(nq, 1 << 14, [&](int64_t b0, int64_t e0, int) {
      for (int64_t c = 1; c < nch; ++c) {
        const float* p = F.dq_part + (c - 1) * nq;
        for (int64_t e = b0; e < e0; ++e) dq[e] += p[e];
      }
    });
}

// ---- bindings ----------------------------------------------------------------------------------
// Reads B, Tq, Tk, H, Hkv, D, kvCap, scale, causal from info[first..] and checks them.
Shape ShapeArgs(const Napi::CallbackInfo& info, size_t first, const char* op) {
  Napi::Env env = info.Env();
  Shape s;
  s.B = IntArg(info, first + 0, op, "B");
  s.Tq = IntArg(info, first + 1, op, "Tq");
  s.Tk = IntArg(info, first + 2, op, "Tk");
  s.H = IntArg(info, first + 3, op, "H");
  s.Hkv = IntArg(info, first + 4, op, "Hkv");
  s.D = IntArg(info, first + 5, op, "D");
  s.kvCap = IntArg(info, first + 6, op, "kvCap");
  double scale = NumArg(info, first + 7, op, "scale");
  s.causal = BoolArg(info, first + 8, op, "causal");
  Require(env, s.B >= 1 && s.Tq >= 1 && s.Tk >= 1 && s.H >= 1 && s.Hkv >= 1 && s.D >= 1, op,
          "B, Tq, Tk, H, Hkv and D must all be at least 1");
  Require(env, s.H % s.Hkv == 0, op, "H (" + std::to_string(s.H) + ") must be a multiple of Hkv (" + std::to_string(s.Hkv) + ")");
  Require(env, s.Tk >= s.Tq, op, "Tk (" + std::to_string(s.Tk) + ") must be at least Tq (" + std::to_string(s.Tq) + ")");
  Require(env, s.kvCap >= s.Tk, op, "kvCap (" + std::to_string(s.kvCap) + ") must be at least Tk (" + std::to_string(s.Tk) + ")");
  Require(env, s.kvCap < (1LL << 30), op, "kvCap must be below 2^30");  // positions are int32 lanes
  Require(env, std::isfinite(scale), op, "scale must be finite");
  // element counts in int64 with room to spare (each factor is below 9e15 already)
  double nq = (double)s.B * (double)s.Tq * (double)s.H * (double)s.D;
  double nkv = (double)s.B * (double)s.kvCap * (double)s.Hkv * (double)s.D;
  Require(env, nq < 4e18 && nkv < 4e18, op, "tensor sizes overflow");
  s.scale = (float)scale;
  return s;
}

Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  const char* op = "attentionForward";
  Napi::Env env = info.Env();
  auto out = F32Arg(info, 0, op, "out");
  bool has_lse = info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined();
  Buf<float> lse{nullptr, 0};
  if (has_lse) lse = F32Arg(info, 1, op, "lse");
  auto q = F32Arg(info, 2, op, "q");
  auto k = F32Arg(info, 3, op, "k");
  auto v = F32Arg(info, 4, op, "v");
  Shape s = ShapeArgs(info, 5, op);
  const int64_t nq = s.B * s.Tq * s.H * s.D, nkv = s.B * s.kvCap * s.Hkv * s.D;
  NeedLen(env, op, "out", out, nq);
  if (has_lse) NeedLen(env, op, "lse", lse, s.B * s.H * s.Tq);
  NeedLen(env, op, "q", q, nq);
  NeedLen(env, op, "k", k, nkv);
  NeedLen(env, op, "v", v, nkv);
  attention_forward(out.ptr, has_lse ? lse.ptr : nullptr, q.ptr, k.ptr, v.ptr, s);
  return env.Undefined();
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  const char* op = "attentionBackward";
  Napi::Env env = info.Env();
  auto dq = F32Arg(info, 0, op, "dq");
  auto dk = F32Arg(info, 1, op, "dk");
  auto dv = F32Arg(info, 2, op, "dv");
  auto dout = F32Arg(info, 3, op, "dout");
  auto q = F32Arg(info, 4, op, "q");
  auto k = F32Arg(info, 5, op, "k");
  auto v = F32Arg(info, 6, op, "v");
  auto out = F32Arg(info, 7, op, "out");
  auto lse = F32Arg(info, 8, op, "lse");
  Shape s = ShapeArgs(info, 9, op);
  const int64_t nq = s.B * s.Tq * s.H * s.D, nkv = s.B * s.kvCap * s.Hkv * s.D;
  NeedLen(env, op, "dq", dq, nq);
  NeedLen(env, op, "dk", dk, nkv);
  NeedLen(env, op, "dv", dv, nkv);
  NeedLen(env, op, "dout", dout, nq);
  NeedLen(env, op, "q", q, nq);
  NeedLen(env, op, "k", k, nkv);
  NeedLen(env, op, "v", v, nkv);
  NeedLen(env, op, "out", out, nq);
  NeedLen(env, op, "lse", lse, s.B * s.H * s.Tq);
  attention_backward(dq.ptr, dk.ptr, dv.ptr, dout.ptr, q.ptr, k.ptr, v.ptr, out.ptr, lse.ptr, s);
  return env.Undefined();
}

}  // namespace

void RegisterAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attentionForward", Napi::Function::New(env, AttentionForward));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward));
}

}  // namespace dsllm
