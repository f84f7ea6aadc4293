// Rotary position embedding in HF's rotate-half layout: within a head of D dims, element i pairs
// with i + D/2 (not the interleaved 2i, 2i+1 of the original paper). x is [B,T,H,D]; token t of
// every sequence sits at position pos0 + t, whose angles are row pos0 + t of the [maxT, D/2] tables.
// Each pair is read in full before it is written, so out may alias x (and dx may alias dout).
#include "common.h"
#include "parallel.h"
#include <algorithm>
#include <climits>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace dsllm {
namespace {

constexpr int64_t kMinWork = 16384;  // elements; below this a pool hand-off costs more than it saves

#if defined(__AVX512F__)
inline __mmask16 Lanes(int64_t left) { return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u); }
#endif

// forward:  o1 = x1·c − x2·s,  o2 = x2·c + x1·s
// backward (transpose, added): d1 += g1·c + g2·s,  d2 += g2·c − g1·s
template <bool kBackward>
void RotateHead(float* o, const float* x, const float* c, const float* s, int64_t half) {
#if defined(__AVX512F__)
  for (int64_t i = 0; i < half; i += 16) {
    __mmask16 m = Lanes(half - i);
    __m512 x1 = _mm512_maskz_loadu_ps(m, x + i), x2 = _mm512_maskz_loadu_ps(m, x + half + i);
    __m512 vc = _mm512_maskz_loadu_ps(m, c + i), vs = _mm512_maskz_loadu_ps(m, s + i);
    if (kBackward) {
      __m512 d1 = _mm512_fmadd_ps(x1, vc, _mm512_mul_ps(x2, vs));
      __m512 d2 = _mm512_fmsub_ps(x2, vc, _mm512_mul_ps(x1, vs));
      _mm512_mask_storeu_ps(o + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, o + i), d1));
      _mm512_mask_storeu_ps(o + half + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, o + half + i), d2));
    } else {
      __m512 o1 = _mm512_fmsub_ps(x1, vc, _mm512_mul_ps(x2, vs));
      __m512 o2 = _mm512_fmadd_ps(x2, vc, _mm512_mul_ps(x1, vs));
      _mm512_mask_storeu_ps(o + i, m, o1);
      _mm512_mask_storeu_ps(o + half + i, m, o2);
    }
  }
#else
  for (int64_t i = 0; i < half; i++) {
    float x1 = x[i], x2 = x[half + i];
    if (kBackward) {
      float d1 = x1 * c[i] + x2 * s[i], d2 = x2 * c[i] - x1 * s[i];
      o[i] += d1;
      o[half + i] += d2;
    } else {
      o[i] = x1 * c[i] - x2 * s[i];
      o[half + i] = x2 * c[i] + x1 * s[i];
    }
  }
#endif
}

template <bool kBackward>
Napi::Value JsRope(const Napi::CallbackInfo& info) {
  const char* op = kBackward ? "ropeBackward" : "ropeForward";
  const char* oname = kBackward ? "dx" : "out";
  const char* xname = kBackward ? "dout" : "x";
  Napi::Env env = info.Env();
  auto out = F32Arg(info, 0, op, oname);
  auto x = F32Arg(info, 1, op, xname);
  auto cs = F32Arg(info, 2, op, "cos");
  auto sn = F32Arg(info, 3, op, "sin");
  int64_t B = IntArg(info, 4, op, "B"), T = IntArg(info, 5, op, "T"), H = IntArg(info, 6, op, "H"),
          D = IntArg(info, 7, op, "D"), pos0 = IntArg(info, 8, op, "pos0");
  Require(env, D >= 2 && D % 2 == 0, op, "D must be a positive even number, got " + std::to_string(D));
  // every size is < 9e15 (IntArg); guard the products against int64 overflow
  auto mul = [&](int64_t a, int64_t b) {
    if (a != 0 && b > INT64_MAX / a) Fail(env, op, "B*T*H*D overflows");
    return a * b;
  };
  const int64_t half = D / 2, rowElems = mul(H, D), rows = mul(B, T), total = mul(rows, rowElems);
  NeedLen(env, op, oname, out, total);
  NeedLen(env, op, xname, x, total);
  const int64_t cosRows = (int64_t)cs.len / half, sinRows = (int64_t)sn.len / half;
  Require(env, pos0 + T <= cosRows, op,
          "positions pos0+T = " + std::to_string(pos0 + T) + " exceed the " + std::to_string(cosRows) +
          " rows of D/2 = " + std::to_string(half) + " in 'cos'");
  Require(env, pos0 + T <= sinRows, op,
          "positions pos0+T = " + std::to_string(pos0 + T) + " exceed the " + std::to_string(sinRows) +
          " rows of D/2 = " + std::to_string(half) + " in 'sin'");
  float* o = out.ptr;
  const float* xp = x.ptr;
  const float* c = cs.ptr;
  const float* s = sn.ptr;
  parallel_for(rows, std::max<int64_t>(1, kMinWork / std::max<int64_t>(rowElems, 1)), [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; r++) {
      const int64_t p = pos0 + r % T;
      const float* cr = c + p * half;
      const float* sr = s + p * half;
      for (int64_t h = 0; h < H; h++) {
        const int64_t off = r * rowElems + h * D;
        RotateHead<kBackward>(o + off, xp + off, cr, sr, half);
      }
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterRope(Napi::Env env, Napi::Object exports) {
  exports.Set("ropeForward", Napi::Function::New(env, JsRope<false>, "ropeForward"));
  exports.Set("ropeBackward", Napi::Function::New(env, JsRope<true>, "ropeBackward"));
}

}  // namespace dsllm
