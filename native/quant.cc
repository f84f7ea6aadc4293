// Quantized and 16-bit weights for inference: GGUF's Q8_0/Q4_0 block formats (quantize, dequantize,
// embedding rows) and y = x·Wᵀ with W [n, k] in f32, bf16, f16, q8_0 or q4_0 and x f32 [rows, k].
// Block helpers live in quant_blocks.h, the dot kernels in quant_dot.h.
//
// Block formats (as ggml's block_q8_0 / block_q4_0, 32 elements each):
//   q8_0: f16 d, int8 q[32]                          x = d·q
//   q4_0: f16 d, uint8 qs[16] (lo nibble = element j, hi nibble = element j+16)   x = d·(q − 8)
// Weight quantization rounds as ggml's reference quantizers (quantize_row_q8_0_ref / q4_0_ref).
//
// The matmul has two modes, chosen by the caller (TypeScript decides):
//   dot  (few rows: decode, memory-bound): x rows are quantized to q8_0 blocks once, as ggml's x86
//        matmuls do, and each weight block is dotted with int8 VNNI (vpdpbusd) straight from storage,
//        the f32 sums taken in ggml's order (quant_dot.h: llama.cpp's logits to the bit); f32/bf16/f16
//        weights are widened to f32 in registers against f32 x (no rounding of x). Threads split the
//        outputs. (Measured, one thread, 32000x768 q8_0: the int8 dot reads 21-24 G weights per
//        CPU-second, dequantizing q8_0 to f32 in registers against f32 x 16-17: 1.4x slower.)
//   gemm (many rows: prefill, compute-bound): weights are dequantized panel by panel to bf16 (f32 for
//        f16 weights, which bf16 would round) and fed to the packed GEMM of gemm_core.h with x rounded
//        to bf16 (AVX512-BF16 dot products, f32 accumulation); f32 and bf16 weights go to it directly.
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
#include "quant_blocks.h"
#include "quant_dot.h"

namespace dsllm {
namespace {

thread_local QuantX tlsX;

// y [rows, n] for q8_0/q4_0 weights: tiles of weight rows (kQ8Tile / kQ4Tile) against groups of up
// to 4 x rows, the rows past the last whole tile one at a time; threads split the tiles
void MatmulDotQuant(float* y, int64_t rows, const uint8_t* w, int fmt, int64_t n, int64_t k, const QuantX& X) {
  const int64_t nb = k / QK, rb = RowBytes(fmt, k);
#if defined(DSLLM_QTILES)
  const int64_t T = fmt == kQ8 ? kQ8Tile : kQ4Tile;
  // the Q4_0 tile gathers its 16 scales at 32-bit offsets i·rb
  const int64_t tiles = fmt == kQ4 && 16 * rb >= (1LL << 31) ? 0 : n / T;
#else
  const int64_t T = 1, tiles = 0;
#endif
  const int64_t units = tiles + (n - tiles * T);
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, rb * rows * T));
  parallel_for(units, grain, [&](int64_t u0, int64_t u1, int) {
    for (int64_t u = u0; u < u1; ++u) {
      if (u < tiles) {
#if defined(DSLLM_QTILES)
        const int64_t j0 = u * T;
        for (int64_t r = 0; r < rows; r += 4) {
          const int R = (int)std::min<int64_t>(4, rows - r);
          const int8_t* xq = X.q.data() + r * k;
          const float* xd = X.d.data() + r * nb;
          const int32_t* xs = X.sum.data() + r * nb;
          float* yr = y + r * n + j0;
          const uint8_t* wt = w + j0 * rb;
          if (fmt == kQ8) {
            if (R == 4) DotQ8Tile<4>(wt, rb, xq, xd, k, nb, yr, n);
            else if (R == 3) DotQ8Tile<3>(wt, rb, xq, xd, k, nb, yr, n);
            else if (R == 2) DotQ8Tile<2>(wt, rb, xq, xd, k, nb, yr, n);
            else DotQ8Tile<1>(wt, rb, xq, xd, k, nb, yr, n);
          } else {
            if (R == 4) DotQ4Tile<4>(wt, rb, xq, xd, xs, k, nb, yr, n);
            else if (R == 3) DotQ4Tile<3>(wt, rb, xq, xd, xs, k, nb, yr, n);
            else if (R == 2) DotQ4Tile<2>(wt, rb, xq, xd, xs, k, nb, yr, n);
            else DotQ4Tile<1>(wt, rb, xq, xd, xs, k, nb, yr, n);
          }
        }
#endif
        continue;
      }
      const int64_t j = tiles * T + (u - tiles);
      const uint8_t* wr = w + j * rb;
      for (int64_t r = 0; r < rows; ++r)
        y[r * n + j] = fmt == kQ8 ? DotQ8One(wr, X.q.data() + r * k, X.d.data() + r * nb, nb)
                                  : DotQ4One(wr, X.q.data() + r * k, X.d.data() + r * nb, X.sum.data() + r * nb, nb);
    }
  });
}

void MatmulDot(float* y, const float* x, int64_t rows, const uint8_t* w, int fmt, int64_t n, int64_t k) {
  if (fmt == kQ8 || fmt == kQ4) {
    QuantX& X = tlsX;
    X.Build(x, rows, k);
    MatmulDotQuant(y, rows, w, fmt, n, k, X);
    return;
  }
  const int64_t rb = RowBytes(fmt, k);
  // each thread takes a range of output features; a weight row stays in L1 while every x row meets it
  int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, rb * rows));
  parallel_for(n, grain, [&](int64_t j0, int64_t j1, int) {
    for (int64_t j = j0; j < j1; ++j) {
      const uint8_t* wr = w + j * rb;
      for (int64_t r = 0; r < rows; ++r) {
        float v;
        switch (fmt) {
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
#if defined(__AVX512F__) && defined(__AVX512BW__)
      if (fmt == kQ8) QuantizeQ8BlockVec(x.ptr + b * QK, o + b * bb);
#else
      if (fmt == kQ8) QuantizeQ8Block(x.ptr + b * QK, o + b * bb);
#endif
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
