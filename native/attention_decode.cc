// One decode step of attention for a batch of sequences, each with its own KV cache and length:
// for sequence s (row r = rows[s] of q/kNew/vNew, its new token at position p = pos[s]),
//   1. RoPE k_new and q at p (HF rotate-half, the rope.cc formula), write k_new and v_new into row p
//      of its caches ([cap, Hkv, D] each);
//   2. every query head h attends keys 0..p of its kv head: softmax(scale·q·kᵀ)·V.
// One call covers every decoding sequence of an engine step (instead of a rope, a cache write and a
// flash-attention call per sequence per layer, whose hand-offs to the thread pool cost more than
// the work at these sizes). Work items are (sequence, group of kv heads): an item reads and writes
// only those heads' slices of that sequence's cache, so items are independent, and each output row
// is computed by one thread in a fixed order: the result does not depend on the batch or threads.
#include "common.h"
#include "parallel.h"
#include "simd_math.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace dsllm {
namespace {

constexpr const char* kOp = "decodeAttention";

#if defined(__AVX512F__)
inline __mmask16 Lanes(int64_t left) { return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u); }
#endif

// o1 = x1·c − x2·s, o2 = x2·c + x1·s, then both times `scale` (1 for keys)
void Rotate(float* o, const float* x, const float* c, const float* s, int64_t half, float scale) {
#if defined(__AVX512F__)
  __m512 vsc = _mm512_set1_ps(scale);
  for (int64_t i = 0; i < half; i += 16) {
    __mmask16 m = Lanes(half - i);
    __m512 x1 = _mm512_maskz_loadu_ps(m, x + i), x2 = _mm512_maskz_loadu_ps(m, x + half + i);
    __m512 vc = _mm512_maskz_loadu_ps(m, c + i), vs = _mm512_maskz_loadu_ps(m, s + i);
    __m512 o1 = _mm512_fmsub_ps(x1, vc, _mm512_mul_ps(x2, vs));
    __m512 o2 = _mm512_fmadd_ps(x2, vc, _mm512_mul_ps(x1, vs));
    if (scale != 1.0f) { o1 = _mm512_mul_ps(o1, vsc); o2 = _mm512_mul_ps(o2, vsc); }
    _mm512_mask_storeu_ps(o + i, m, o1);
    _mm512_mask_storeu_ps(o + half + i, m, o2);
  }
#else
  for (int64_t i = 0; i < half; i++) {
    float x1 = x[i], x2 = x[half + i];
    o[i] = (x1 * c[i] - x2 * s[i]) * scale;
    o[half + i] = (x2 * c[i] + x1 * s[i]) * scale;
  }
#endif
}

// sc[h·n + j] = q_h · k_j[kv head of h] for the query heads [h0, h1) and keys j < n. Key rows are
// read whole, one after the other (a sequence's cache is one contiguous stream; reading one head's
// slice of every row instead was a string of cache misses once the weights had pushed the cache out).
void Scores(float* sc, const float* q, const float* k, int64_t ld, int64_t n, int64_t D, int64_t h0, int64_t h1, int64_t g) {
  for (int64_t j = 0; j < n; ++j) {
    const float* krow = k + j * ld;
    for (int64_t h = h0; h < h1; ++h) {
      const float* kh = krow + (h / g) * D;
      const float* qh = q + (h - h0) * D;
#if defined(__AVX512F__)
      __m512 a0 = _mm512_setzero_ps(), a1 = a0;
      int64_t d = 0;
      for (; d + 32 <= D; d += 32) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(qh + d), _mm512_loadu_ps(kh + d), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(qh + d + 16), _mm512_loadu_ps(kh + d + 16), a1);
      }
      for (; d < D; d += 16) {
        __mmask16 m = Lanes(D - d);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, qh + d), _mm512_maskz_loadu_ps(m, kh + d), a0);
      }
      sc[(h - h0) * n + j] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
#else
      float acc = 0.f;
      for (int64_t d = 0; d < D; ++d) acc += qh[d] * kh[d];
      sc[(h - h0) * n + j] = acc;
#endif
    }
  }
}

// p[j] = exp(p[j] − max) in place; returns Σ p
float SoftmaxWeights(float* p, int64_t n) {
  float mx = -INFINITY;
  for (int64_t j = 0; j < n; ++j) mx = std::max(mx, p[j]);
#if defined(__AVX512F__)
  __m512 vm = _mm512_set1_ps(mx), sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    __mmask16 m = Lanes(n - j);
    __m512 e = Exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, p + j), vm));
    e = _mm512_maskz_mov_ps(m, e);
    _mm512_mask_storeu_ps(p + j, m, e);
    sum = _mm512_add_ps(sum, e);
  }
  return _mm512_reduce_add_ps(sum);
#else
  float sum = 0.f;
  for (int64_t j = 0; j < n; ++j) { p[j] = std::exp(p[j] - mx); sum += p[j]; }
  return sum;
#endif
}

// acc[(h − h0)·D + d] = Σ_j p[(h − h0)·n + j] · v_j[kv head of h][d], value rows read whole, in order
void Mix(float* acc, const float* p, const float* v, int64_t ld, int64_t n, int64_t D, int64_t h0, int64_t h1, int64_t g) {
  std::memset(acc, 0, sizeof(float) * (size_t)((h1 - h0) * D));
  for (int64_t j = 0; j < n; ++j) {
    const float* vrow = v + j * ld;
    for (int64_t h = h0; h < h1; ++h) {
      const float* vh = vrow + (h / g) * D;
      float* a = acc + (h - h0) * D;
      const float pj = p[(h - h0) * n + j];
#if defined(__AVX512F__)
      __m512 vp = _mm512_set1_ps(pj);
      for (int64_t d = 0; d < D; d += 16) {
        __mmask16 m = Lanes(D - d);
        _mm512_mask_storeu_ps(a + d, m, _mm512_fmadd_ps(vp, _mm512_maskz_loadu_ps(m, vh + d), _mm512_maskz_loadu_ps(m, a + d)));
      }
#else
      for (int64_t d = 0; d < D; ++d) a[d] += pj * vh[d];
#endif
    }
  }
}

struct Batch {
  float* out;
  const float *q, *kNew, *vNew, *cos, *sin;
  std::vector<float*> kc, vc;
  const int32_t *rows, *pos;
  int64_t H, Hkv, D;
  float scale;
};

// Sequence s, kv heads [c0, c1) and their query heads.
void Item(const Batch& b, int64_t s, int64_t c0, int64_t c1, std::vector<float>& scratch) {
  const int64_t D = b.D, half = D / 2, g = b.H / b.Hkv, ldkv = b.Hkv * D, r = b.rows[s], p = b.pos[s];
  const int64_t h0 = c0 * g, h1 = c1 * g, nh = h1 - h0, n = p + 1;
  const float* c = b.cos + p * half;
  const float* sn = b.sin + p * half;
  for (int64_t hk = c0; hk < c1; ++hk) {
    Rotate(b.kc[s] + p * ldkv + hk * D, b.kNew + r * ldkv + hk * D, c, sn, half, 1.0f);
    std::memcpy(b.vc[s] + p * ldkv + hk * D, b.vNew + r * ldkv + hk * D, sizeof(float) * D);
  }
  const size_t need = (size_t)(2 * nh * D + nh * n + 16);
  if (scratch.size() < need) scratch.resize(need);
  float* qr = scratch.data();     // [nh][D] RoPE'd, scaled queries
  float* acc = qr + nh * D;       // [nh][D] unnormalised outputs
  float* sc = acc + nh * D;       // [nh][n] scores, then weights
  for (int64_t h = h0; h < h1; ++h) Rotate(qr + (h - h0) * D, b.q + (r * b.H + h) * D, c, sn, half, b.scale);
  Scores(sc, qr, b.kc[s], ldkv, n, D, h0, h1, g);
  float sums[4096];
  for (int64_t h = 0; h < nh; ++h) sums[h] = SoftmaxWeights(sc + h * n, n);
  Mix(acc, sc, b.vc[s], ldkv, n, D, h0, h1, g);
  for (int64_t h = 0; h < nh; ++h) {
    float inv = 1.0f / sums[h], *o = b.out + (r * b.H + h0 + h) * D;
    for (int64_t d = 0; d < D; ++d) o[d] = acc[h * D + d] * inv;
  }
}

thread_local std::vector<float> tlsScores;

// decodeAttention(out, q, kNew, vNew, kCaches: Float32Array[], vCaches: Float32Array[], rows: Int32Array,
//                 pos: Int32Array, cos, sin, H, Hkv, D, scale)
Napi::Value DecodeAttentionJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(env, info.Length() == 14, kOp, "expects 14 arguments (out, q, kNew, vNew, kCaches, vCaches, rows, pos, cos, sin, H, Hkv, D, scale)");
  Batch b;
  auto out = F32Arg(info, 0, kOp, "out");
  auto q = F32Arg(info, 1, kOp, "q");
  auto kNew = F32Arg(info, 2, kOp, "kNew");
  auto vNew = F32Arg(info, 3, kOp, "vNew");
  auto rows = I32Arg(info, 6, kOp, "rows");
  auto pos = I32Arg(info, 7, kOp, "pos");
  auto cs = F32Arg(info, 8, kOp, "cos");
  auto sn = F32Arg(info, 9, kOp, "sin");
  b.H = IntArg(info, 10, kOp, "H");
  b.Hkv = IntArg(info, 11, kOp, "Hkv");
  b.D = IntArg(info, 12, kOp, "D");
  double scale = NumArg(info, 13, kOp, "scale");
  const int64_t H = b.H, Hkv = b.Hkv, D = b.D;
  Require(env, H >= 1 && H <= 4096 && Hkv >= 1 && H % Hkv == 0, kOp, "H must be a positive multiple of Hkv (at most 4096)");
  Require(env, D >= 2 && D % 2 == 0 && D <= 4096, kOp, "D must be a positive even number (at most 4096), got " + std::to_string(D));
  Require(env, std::isfinite(scale), kOp, "scale must be finite");
  const int64_t S = (int64_t)rows.len;
  Require(env, (int64_t)pos.len == S, kOp, "rows and pos must have the same length (one entry per sequence)");
  for (int i : {4, 5})
    Require(env, info[i].IsArray() && info[i].As<Napi::Array>().Length() == (uint32_t)S, kOp,
            std::string(i == 4 ? "kCaches" : "vCaches") + " must be an array with one Float32Array per sequence (" + std::to_string(S) + ")");
  auto kArr = info[4].As<Napi::Array>(), vArr = info[5].As<Napi::Array>();
  const int64_t half = D / 2, ldkv = Hkv * D;
  int64_t maxRow = -1, maxPos = 0;
  for (int64_t s = 0; s < S; ++s) {
    Require(env, rows.ptr[s] >= 0 && pos.ptr[s] >= 0, kOp, "rows and pos must be ≥ 0 (sequence " + std::to_string(s) + ")");
    maxRow = std::max<int64_t>(maxRow, rows.ptr[s]);
    maxPos = std::max<int64_t>(maxPos, pos.ptr[s]);
  }
  if (S > 0) {
    NeedLen(env, kOp, "out", out, (maxRow + 1) * H * D);
    NeedLen(env, kOp, "q", q, (maxRow + 1) * H * D);
    NeedLen(env, kOp, "kNew", kNew, (maxRow + 1) * ldkv);
    NeedLen(env, kOp, "vNew", vNew, (maxRow + 1) * ldkv);
    NeedLen(env, kOp, "cos", cs, (maxPos + 1) * half);
    NeedLen(env, kOp, "sin", sn, (maxPos + 1) * half);
  }
  std::vector<char> rowSeen((size_t)(maxRow + 1), 0);
  std::vector<std::pair<const float*, const float*>> spans;  // every cache's [begin, end), for the overlap check
  for (int64_t s = 0; s < S; ++s) {
    Require(env, !rowSeen[rows.ptr[s]], kOp, "rows must be distinct (row " + std::to_string(rows.ptr[s]) + " appears twice)");
    rowSeen[rows.ptr[s]] = 1;
    for (int which = 0; which < 2; ++which) {
      Napi::Value e = (which ? vArr : kArr).Get((uint32_t)s);
      const char* name = which ? "vCaches" : "kCaches";
      Require(env, e.IsTypedArray() && e.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array, kOp,
              std::string(name) + "[" + std::to_string(s) + "] must be a Float32Array");
      auto a = e.As<Napi::Float32Array>();
      int64_t need = ((int64_t)pos.ptr[s] + 1) * ldkv;
      Require(env, (int64_t)a.ElementLength() >= need, kOp,
              std::string(name) + "[" + std::to_string(s) + "] holds " + std::to_string(a.ElementLength()) + " elements, needs at least " +
                  std::to_string(need) + " (position " + std::to_string(pos.ptr[s]) + ")");
      (which ? b.vc : b.kc).push_back(a.Data());
      spans.push_back({a.Data(), a.Data() + a.ElementLength()});
    }
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    Require(env, spans[i].first >= spans[i - 1].second, kOp, "the caches must be distinct, non-overlapping buffers");
  auto outside = [&](const float* p, size_t len) {
    for (auto& sp : spans) if (p < sp.second && sp.first < p + len) return false;
    return true;
  };
  Require(env, outside(out.ptr, out.len) && outside(q.ptr, q.len) && outside(kNew.ptr, kNew.len) && outside(vNew.ptr, vNew.len),
          kOp, "out, q, kNew and vNew must not overlap a cache");
  if (S == 0) return env.Undefined();
  b.out = out.ptr; b.q = q.ptr; b.kNew = kNew.ptr; b.vNew = vNew.ptr; b.cos = cs.ptr; b.sin = sn.ptr;
  b.rows = rows.ptr; b.pos = pos.ptr; b.scale = (float)scale;
  // below ~64k multiply-adds in all a hand-off to the pool costs more than it saves
  double work = 0;
  for (int64_t s = 0; s < S; ++s) work += (double)(pos.ptr[s] + 1) * H * D * 2;
  // items: a sequence's kv heads in `parts` groups, enough items to give every thread two; a head's
  // arithmetic is the same whatever the grouping
  const int64_t T = num_threads(), parts = std::min<int64_t>(Hkv, std::max<int64_t>(1, (2 * T + S - 1) / S)), items = S * parts;
  parallel_for(items, work < 65536 ? items : 1, [&](int64_t i0, int64_t i1, int) {
    for (int64_t i = i0; i < i1; ++i) {
      int64_t part = i % parts;
      Item(b, i / parts, Hkv * part / parts, Hkv * (part + 1) / parts, tlsScores);
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterAttentionDecode(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeAttention", Napi::Function::New(env, DecodeAttentionJs, "decodeAttention"));
}

}  // namespace dsllm
