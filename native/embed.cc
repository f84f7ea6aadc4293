// Token embedding: a row gather (forward) and a row scatter-add (backward). Every id is checked
// before anything is written, so a bad id is an exception naming its position, never a stray write.
// The backward partitions the channel dim across threads: each element of dtable then receives its
// contributions in ascending i on one thread, so the result is bit-identical to a serial loop
// whatever the thread count, with no atomics.
#include "common.h"
#include "parallel.h"
#include <algorithm>
#include <climits>
#include <cstring>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace dsllm {
namespace {

constexpr int64_t kMinWork = 16384;  // elements; below this a pool hand-off costs more than it saves
constexpr int64_t kColBlock = 16;    // backward column slice granularity: one cache line of f32

int64_t CheckedMul(Napi::Env env, const char* op, int64_t a, int64_t b, const char* what) {
  if (a != 0 && b > INT64_MAX / a) Fail(env, op, std::string(what) + " overflows");
  return a * b;
}

void CheckIds(Napi::Env env, const char* op, const int32_t* ids, int64_t N, int64_t V) {
  for (int64_t i = 0; i < N; i++)
    if (ids[i] < 0 || ids[i] >= V)
      Fail(env, op, "ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) + " is out of range [0, V=" +
                        std::to_string(V) + ")");
}

void WidenBf16(float* out, const uint16_t* x, int64_t C) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= C; i += 16) {
    __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    _mm512_storeu_ps(out + i, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
  }
#endif
  for (; i < C; i++) {
    uint32_t u = (uint32_t)x[i] << 16;
    std::memcpy(out + i, &u, 4);
  }
}

Napi::Value JsEmbeddingForward(const Napi::CallbackInfo& info) {
  const char* op = "embeddingForward";
  Napi::Env env = info.Env();
  auto out = F32Arg(info, 0, op, "out");
  auto ids = I32Arg(info, 1, op, "ids");
  auto table = FloatArg(info, 2, op, "table");
  int64_t N = IntArg(info, 3, op, "N"), C = IntArg(info, 4, op, "C"), V = IntArg(info, 5, op, "V");
  NeedLen(env, op, "out", out, CheckedMul(env, op, N, C, "N*C"));
  NeedLen(env, op, "ids", ids, N);
  NeedLen(env, op, "table", table, CheckedMul(env, op, V, C, "V*C"));
  CheckIds(env, op, ids.ptr, N, V);
  float* o = out.ptr;
  const int32_t* id = ids.ptr;
  const void* tp = table.ptr;
  const bool bf16 = table.bf16;
  parallel_for(N, std::max<int64_t>(1, kMinWork / std::max<int64_t>(C, 1)), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; i++) {
      const int64_t row = (int64_t)id[i] * C;
      if (bf16)
        WidenBf16(o + i * C, static_cast<const uint16_t*>(tp) + row, C);
      else
        std::memcpy(o + i * C, static_cast<const float*>(tp) + row, (size_t)C * sizeof(float));
    }
  });
  return env.Undefined();
}

Napi::Value JsEmbeddingBackward(const Napi::CallbackInfo& info) {
  const char* op = "embeddingBackward";
  Napi::Env env = info.Env();
  auto dtable = F32Arg(info, 0, op, "dtable");
  auto dout = F32Arg(info, 1, op, "dout");
  auto ids = I32Arg(info, 2, op, "ids");
  int64_t N = IntArg(info, 3, op, "N"), C = IntArg(info, 4, op, "C"), V = IntArg(info, 5, op, "V");
  NeedLen(env, op, "dtable", dtable, CheckedMul(env, op, V, C, "V*C"));
  NeedLen(env, op, "dout", dout, CheckedMul(env, op, N, C, "N*C"));
  NeedLen(env, op, "ids", ids, N);
  CheckIds(env, op, ids.ptr, N, V);
  float* dt = dtable.ptr;
  const float* d = dout.ptr;
  const int32_t* id = ids.ptr;
  const int64_t nblocks = (C + kColBlock - 1) / kColBlock;
  const int64_t grain = std::max<int64_t>(1, kMinWork / std::max<int64_t>(N * kColBlock, 1));
  parallel_for(nblocks, grain, [&](int64_t b, int64_t e, int) {
    const int64_t c0 = b * kColBlock, c1 = std::min(e * kColBlock, C), w = c1 - c0;
    for (int64_t i = 0; i < N; i++) {
      float* dst = dt + (int64_t)id[i] * C + c0;
      const float* src = d + i * C + c0;
      int64_t j = 0;
#if defined(__AVX512F__)
      for (; j + 16 <= w; j += 16)
        _mm512_storeu_ps(dst + j, _mm512_add_ps(_mm512_loadu_ps(dst + j), _mm512_loadu_ps(src + j)));
      if (j < w) {
        __mmask16 m = (__mmask16)((1u << (w - j)) - 1u);
        _mm512_mask_storeu_ps(dst + j, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + j), _mm512_maskz_loadu_ps(m, src + j)));
      }
#else
      for (; j < w; j++) dst[j] += src[j];
#endif
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterEmbed(Napi::Env env, Napi::Object exports) {
  exports.Set("embeddingForward", Napi::Function::New(env, JsEmbeddingForward, "embeddingForward"));
  exports.Set("embeddingBackward", Napi::Function::New(env, JsEmbeddingBackward, "embeddingBackward"));
}

}  // namespace dsllm
