// Elementwise f32 ops (add, addInto, scale), the non-finite scan, and the strided gather that turns
// any view (permute, slice, broadcast with stride 0) into a contiguous buffer.
// GCC 12 flags the deliberately undefined pass-through operand inside AVX-512 intrinsics
// (_mm512_undefined_*) as (maybe-)uninitialized at -O3; it must be silenced before the headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "common.h"
#include "parallel.h"
#include <algorithm>
#include <cstring>
#include <immintrin.h>
#include <vector>

namespace dsllm {
namespace {

constexpr int64_t kGrain = 1 << 15;  // f32 elements per thread at least (128 KiB)

inline __mmask16 TailMask(int64_t left) { return (__mmask16)((1u << left) - 1); }

// ---- add / addInto / scale ------------------------------------------------------------------------

void Add(float* out, const float* a, const float* b, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t lo, int64_t hi, int) {
    int64_t i = lo;
#if defined(__AVX512F__)
    for (; i + 16 <= hi; i += 16) _mm512_storeu_ps(out + i, _mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
    if (i < hi) {
      __mmask16 k = TailMask(hi - i);
      _mm512_mask_storeu_ps(out + i, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, a + i), _mm512_maskz_loadu_ps(k, b + i)));
      i = hi;
    }
#endif
    for (; i < hi; ++i) out[i] = a[i] + b[i];
  });
}

void Scale(float* x, float s, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t lo, int64_t hi, int) {
    int64_t i = lo;
#if defined(__AVX512F__)
    const __m512 vs = _mm512_set1_ps(s);
    for (; i + 16 <= hi; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vs));
    if (i < hi) {
      __mmask16 k = TailMask(hi - i);
      _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), vs));
      i = hi;
    }
#endif
    for (; i < hi; ++i) x[i] *= s;
  });
}

// ---- firstNonFinite -------------------------------------------------------------------------------

// First index in [lo, hi) whose exponent bits are all ones (NaN or ±Inf), or -1.
int64_t ScanNonFinite(const float* x, int64_t lo, int64_t hi) {
  int64_t i = lo;
#if defined(__AVX512F__)
  const __m512i expmask = _mm512_set1_epi32(0x7f800000);
  auto bad = [&](int64_t j) {
    __m512i u = _mm512_and_si512(_mm512_loadu_si512(x + j), expmask);
    return _mm512_cmpeq_epi32_mask(u, expmask);
  };
  for (; i + 64 <= hi; i += 64) {
    // one branch per 64 elements; the exact lane is found only on a hit
    if ((bad(i) | bad(i + 16) | bad(i + 32) | bad(i + 48)) == 0) continue;
    for (int64_t j = i; j < i + 64; j += 16)
      if (__mmask16 k = bad(j)) return j + __builtin_ctz(k);
  }
  for (; i + 16 <= hi; i += 16)
    if (__mmask16 k = bad(i)) return i + __builtin_ctz(k);
#endif
  for (; i < hi; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return i;
  }
  return -1;
}

int64_t FirstNonFinite(const float* x, int64_t n) {
  // each thread scans one contiguous slice, slices are in index order: the first thread with a hit
  // holds the first index, whatever the timing
  std::vector<int64_t> found(num_threads(), -1);
  parallel_for(n, 1 << 16, [&](int64_t lo, int64_t hi, int t) { found[t] = ScanNonFinite(x, lo, hi); });
  for (int64_t f : found)
    if (f >= 0) return f;
  return -1;
}

// ---- copyStrided ----------------------------------------------------------------------------------

constexpr int kMaxDims = 6;

struct View {
  int nd = 0;  // after dropping size-1 dims and merging contiguous ones
  int64_t shape[kMaxDims];
  int64_t stride[kMaxDims];
  int64_t offset = 0;
  int64_t total = 1;
};

// Walks the outer `nd` dims of a view in row-major order, tracking the source offset.
struct Odometer {
  const View& v;
  int nd;
  int64_t idx[kMaxDims] = {0};
  int64_t off;
  Odometer(const View& view, int outerDims, int64_t start) : v(view), nd(outerDims), off(view.offset) {
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = start % v.shape[d];
      start /= v.shape[d];
      off += idx[d] * v.stride[d];
    }
  }
  void Next() {
    for (int d = nd - 1; d >= 0; --d) {
      off += v.stride[d];
      if (++idx[d] < v.shape[d]) return;
      off -= idx[d] * v.stride[d];
      idx[d] = 0;
    }
  }
};

#if defined(__AVX512F__) && defined(__AVX512BW__)
// In-register transpose of a 16×16 block of 32-bit values: r[i][j] -> r[j][i].
inline void Transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // u[4i+j], 128-bit lane L: column 4L+j of rows 4i..4i+3
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    __m512i w0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x88), w1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xdd);
    __m512i w2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x88), w3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xdd);
    r[j] = _mm512_shuffle_i32x4(w0, w2, 0x88);
    r[8 + j] = _mm512_shuffle_i32x4(w0, w2, 0xdd);
    r[4 + j] = _mm512_shuffle_i32x4(w1, w3, 0x88);
    r[12 + j] = _mm512_shuffle_i32x4(w1, w3, 0xdd);
  }
}
#endif

#if defined(__AVX512F__) && defined(__AVX512BW__)
// One 16×16 tile: dst[r][c] = src[r + c·sc] for r, c < 16 (dst row stride ld). 16-bit elements are
// widened to 32 bits for the in-register transpose and narrowed back.
template <typename T>
inline void Tile16(T* dst, int64_t ld, const T* src, int64_t sc) {
  __m512i blk[16];
  for (int c = 0; c < 16; ++c) {
    if (sizeof(T) == 4) blk[c] = _mm512_loadu_si512(src + c * sc);
    else blk[c] = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)(src + c * sc)));
  }
  Transpose16(blk);
  for (int r = 0; r < 16; ++r) {
    if (sizeof(T) == 4) _mm512_storeu_si512(dst + r * ld, blk[r]);
    else _mm256_storeu_si256((__m256i*)(dst + r * ld), _mm512_cvtepi32_epi16(blk[r]));
  }
}
#endif

// out[o, r, c] = x[base(o) + r + c·sc]: the last two dims swapped (e.g. [B,T,C] -> [B,C,T]).
// Work unit: 128 output rows of one outer index, walked in 128×128 blocks of 16×16 register tiles.
// A block touches 128 pages on each side, which stay in the L2 TLB while its 64 tiles use them; with
// one 16×16 tile at a time, large power-of-two strides cost a TLB miss per cache line.
template <typename T>
void CopyTransposed(T* out, const T* x, const View& v) {
  constexpr int64_t kB = 128;
  const int nd = v.nd;
  const int64_t R = v.shape[nd - 2], C = v.shape[nd - 1], sc = v.stride[nd - 1];
  const int64_t rblocks = (R + kB - 1) / kB, outer = v.total / (R * C);
  const int64_t grain = std::max<int64_t>(1, kGrain / (kB * C));
  parallel_for(outer * rblocks, grain, [&](int64_t lo, int64_t hi, int) {
    Odometer od(v, nd - 2, lo / rblocks);
    int64_t o = lo / rblocks;
    for (int64_t u = lo; u < hi; ++u) {
      int64_t rb = u % rblocks;
      if (u != lo && rb == 0) { od.Next(); ++o; }
      const T* src = x + od.off;
      T* dst = out + o * R * C;
      const int64_t r0 = rb * kB, r1 = std::min(R, r0 + kB);
      for (int64_t c0 = 0; c0 < C; c0 += kB) {
        const int64_t c1 = std::min(C, c0 + kB);
        int64_t r = r0;
#if defined(__AVX512F__) && defined(__AVX512BW__)
        for (; r + 16 <= r1; r += 16) {
          int64_t c = c0;
          for (; c + 16 <= c1; c += 16) Tile16(dst + r * C + c, C, src + r + c * sc, sc);
          for (int64_t rr = r; rr < r + 16; ++rr)  // ragged right edge
            for (int64_t cc = c; cc < c1; ++cc) dst[rr * C + cc] = src[rr + cc * sc];
        }
#endif
        for (; r < r1; ++r)  // ragged bottom edge (or everything, without AVX-512)
          for (int64_t c = c0; c < c1; ++c) dst[r * C + c] = src[r + c * sc];
      }
    }
  });
}

template <typename T>
void CopyView(T* out, const T* x, const View& v) {
  const int nd = v.nd;
  if (v.total == 0) return;
  if (nd == 0) { out[0] = x[v.offset]; return; }
  const int64_t L = v.shape[nd - 1], s = v.stride[nd - 1];
  if (nd == 1 && s == 1) {  // fully contiguous: one memcpy, split over threads
    parallel_for(L, kGrain, [&](int64_t lo, int64_t hi, int) {
      std::memcpy(out + lo, x + v.offset + lo, (hi - lo) * sizeof(T));
    });
    return;
  }
  if (nd >= 2 && s != 1 && v.stride[nd - 2] == 1) return CopyTransposed(out, x, v);
  // rows of L elements: memcpy when the innermost stride is 1, a strided gather otherwise
  const int64_t rows = v.total / L, grain = std::max<int64_t>(1, kGrain / L);
  parallel_for(rows, grain, [&](int64_t lo, int64_t hi, int) {
    Odometer od(v, nd - 1, lo);
    for (int64_t r = lo; r < hi; ++r, od.Next()) {
      T* dst = out + r * L;
      const T* src = x + od.off;
      if (s == 1) std::memcpy(dst, src, L * sizeof(T));
      else
        for (int64_t i = 0; i < L; ++i) dst[i] = src[i * s];
    }
  });
}

// Reads a JS array (or typed array) of non-negative integers.
int ReadDims(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* dst) {
  const char* op = "copyStrided";
  Napi::Env env = info.Env();
  if (i >= info.Length() || !(info[i].IsArray() || info[i].IsTypedArray()))
    Fail(env, op, std::string("argument '") + name + "' must be an array of integers");
  Napi::Object arr = info[i].As<Napi::Object>();
  size_t len = info[i].IsArray() ? info[i].As<Napi::Array>().Length() : info[i].As<Napi::TypedArray>().ElementLength();
  Require(env, len <= (size_t)kMaxDims, op, std::string("argument '") + name + "' has " + std::to_string(len) + " dims, at most 6 are supported");
  for (size_t d = 0; d < len; ++d) {
    Napi::Value e = arr.Get((uint32_t)d);
    double v = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(v >= 0) || v != (double)(int64_t)v || v > 9.0e15)
      Fail(env, op, std::string("argument '") + name + "[" + std::to_string(d) + "]' must be a non-negative integer");
    dst[d] = (int64_t)v;
  }
  return (int)len;
}

Napi::Value CopyStridedBinding(const Napi::CallbackInfo& info) {
  const char* op = "copyStrided";
  Napi::Env env = info.Env();
  auto out = TypedArg(info, 0, op, "out");
  auto x = TypedArg(info, 1, op, "x");
  napi_typedarray_type type = out.TypedArrayType();
  Require(env, type == napi_float32_array || type == napi_int32_array || type == napi_uint16_array, op,
          "argument 'out' must be a Float32Array, Int32Array or Uint16Array");
  Require(env, x.TypedArrayType() == type, op, "arguments 'out' and 'x' must have the same element type");
  int64_t shape[kMaxDims], stride[kMaxDims];
  int nd = ReadDims(info, 2, "shape", shape);
  int ns = ReadDims(info, 3, "strides", stride);
  Require(env, nd == ns, op, "'shape' has " + std::to_string(nd) + " dims but 'strides' has " + std::to_string(ns));
  int64_t offset = IntArg(info, 4, op, "offset");

  // sizes in 128-bit so absurd shapes are an error, not an overflow
  __int128 total = 1, last = offset;
  for (int d = 0; d < nd; ++d) total *= shape[d];
  Require(env, total <= (__int128)out.ElementLength(), op,
          "argument 'out' holds " + std::to_string(out.ElementLength()) + " elements, the view has more");
  if (total == 0) return env.Undefined();
  for (int d = 0; d < nd; ++d) last += (__int128)(shape[d] - 1) * stride[d];
  Require(env, last < (__int128)x.ElementLength(), op,
          "the view reaches element " + std::to_string((long long)std::min<__int128>(last, INT64_MAX)) + " but 'x' holds " +
              std::to_string(x.ElementLength()));

  View v;
  v.offset = offset;
  v.total = (int64_t)total;
  for (int d = 0; d < nd; ++d) {  // drop size-1 dims, merge a dim into the next when contiguous with it
    if (shape[d] == 1) continue;
    if (v.nd > 0 && v.stride[v.nd - 1] == stride[d] * shape[d]) {
      v.shape[v.nd - 1] *= shape[d];
      v.stride[v.nd - 1] = stride[d];
      continue;
    }
    v.shape[v.nd] = shape[d];
    v.stride[v.nd] = stride[d];
    ++v.nd;
  }
  if (type == napi_uint16_array)
    CopyView(static_cast<uint16_t*>(out.ArrayBuffer().Data()) + out.ByteOffset() / 2,
             static_cast<const uint16_t*>(x.ArrayBuffer().Data()) + x.ByteOffset() / 2, v);
  else
    CopyView(reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(out.ArrayBuffer().Data()) + out.ByteOffset()),
             reinterpret_cast<const uint32_t*>(static_cast<const uint8_t*>(x.ArrayBuffer().Data()) + x.ByteOffset()), v);
  return env.Undefined();
}

}  // namespace

void RegisterElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("add", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const char* op = "add";
    auto out = F32Arg(info, 0, op, "out");
    auto a = F32Arg(info, 1, op, "a");
    auto b = F32Arg(info, 2, op, "b");
    int64_t n = IntArg(info, 3, op, "n");
    NeedLen(info.Env(), op, "out", out, n);
    NeedLen(info.Env(), op, "a", a, n);
    NeedLen(info.Env(), op, "b", b, n);
    Add(out.ptr, a.ptr, b.ptr, n);
  }));
  exports.Set("addInto", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const char* op = "addInto";
    auto dst = F32Arg(info, 0, op, "dst");
    auto src = F32Arg(info, 1, op, "src");
    int64_t n = IntArg(info, 2, op, "n");
    NeedLen(info.Env(), op, "dst", dst, n);
    NeedLen(info.Env(), op, "src", src, n);
    Add(dst.ptr, dst.ptr, src.ptr, n);
  }));
  exports.Set("scale", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const char* op = "scale";
    auto x = F32Arg(info, 0, op, "x");
    double s = NumArg(info, 1, op, "s");
    int64_t n = IntArg(info, 2, op, "n");
    NeedLen(info.Env(), op, "x", x, n);
    Scale(x.ptr, (float)s, n);
  }));
  exports.Set("firstNonFinite", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const char* op = "firstNonFinite";
    auto x = F32Arg(info, 0, op, "x");
    int64_t n = IntArg(info, 1, op, "n");
    NeedLen(info.Env(), op, "x", x, n);
    return Napi::Number::New(info.Env(), (double)FirstNonFinite(x.ptr, n));
  }));
  exports.Set("copyStrided", Napi::Function::New(env, CopyStridedBinding));
}

}  // namespace dsllm
