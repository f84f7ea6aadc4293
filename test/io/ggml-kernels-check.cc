// Compiled and run by ggml-kernels.test.ts: dsllm's quantized dot kernels (native/quant_dot.h) against
// the kernels of the llama.cpp CPU build that node-llama-cpp ships (dlopen), on random blocks with
// and without rounding ties. argv[1]: the folder of libggml-base.so, argv[2]: the CPU variant's .so.
// Prints one line: "quants <differing> q8_0 <differing>/<total> q4_0 <differing>/<total>".
#include <dlfcn.h>
#include <cstdio>
#include <random>
#include "../../native/quant_dot.h"
using namespace dsllm;
typedef void (*QuantRowFn)(const float*, void*, int64_t);
typedef void (*VecDotFn)(int, float*, size_t, const void*, size_t, const void*, size_t, int);
typedef void (*GemvFn)(int, float*, size_t, const void*, const void*, int, int);

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::string base = std::string(argv[1]) + "/libggml-base.so";
  if (!dlopen(base.c_str(), RTLD_NOW | RTLD_GLOBAL)) { printf("error %s\n", dlerror()); return 1; }
  void* h = dlopen(argv[2], RTLD_NOW | RTLD_GLOBAL);
  if (!h) { printf("error %s\n", dlerror()); return 1; }
  auto init = (void (*)())dlsym(h, "ggml_cpu_init");
  auto quantRow = (QuantRowFn)dlsym(h, "quantize_row_q8_0");
  auto vecDot = (VecDotFn)dlsym(h, "ggml_vec_dot_q8_0_q8_0");
  auto gemv = (GemvFn)dlsym(h, "ggml_gemv_q4_0_8x8_q8_0");  // Q4_0 as llama.cpp repacks it on AVX2 machines
  if (!init || !quantRow || !vecDot || !gemv) { printf("error missing symbols\n"); return 1; }
  init();
  std::mt19937 g(9);
  std::normal_distribution<float> N(0, 1);
  int badQ = 0, bad8 = 0, bad4 = 0, total = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t k = 32 * (1 + trial % 40), nb = k / 32;
    std::vector<float> x(k), w(8 * k);
    const float sx = std::exp(N(g)), sw = std::exp(N(g)) * 0.1f;
    for (auto& v : x) v = N(g) * sx;
    for (auto& v : w) v = N(g) * sw;
    if (trial % 3 == 0) for (int64_t i = 0; i < k; i += 7) x[i] = std::round(x[i] * 4) / 4;  // ties
    std::vector<uint8_t> xg(nb * kQ8Bytes);
    quantRow(x.data(), xg.data(), k);
    QuantX X;
    X.Build(x.data(), 1, k);
    for (int64_t b = 0; b < nb; ++b) {
      badQ += F16ToF32(LoadU16(&xg[b * kQ8Bytes])) != X.d[b];
      for (int j = 0; j < QK; ++j) badQ += (int8_t)xg[b * kQ8Bytes + 2 + j] != X.q[b * QK + j];
    }
    std::vector<uint8_t> w8(8 * nb * kQ8Bytes), w4(8 * nb * kQ4Bytes);
    for (int64_t b = 0; b < 8 * nb; ++b) {
      QuantizeQ8Block(&w[b * QK], &w8[b * kQ8Bytes]);
      QuantizeQ4Block(&w[b * QK], &w4[b * kQ4Bytes]);
    }
    for (int r = 0; r < 8; ++r, ++total) {
      float s;
      vecDot((int)k, &s, 0, &w8[r * nb * kQ8Bytes], 0, xg.data(), 0, 1);
      bad8 += s != DotQ8One(&w8[r * nb * kQ8Bytes], X.q.data(), X.d.data(), nb);
    }
    // block_q4_0x8: the 8 rows' f16 scales, then 8-byte chunks of their quants, nibbles xor 0x88
    std::vector<uint8_t> rp(nb * 144);
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* o = &rp[b * 144];
      for (int r = 0; r < 8; ++r) std::memcpy(o + 2 * r, &w4[(r * nb + b) * kQ4Bytes], 2);
      for (int i = 0; i < 128; ++i) o[16 + i] = w4[(((i % 64) / 8) * nb + b) * kQ4Bytes + 2 + (i / 64) * 8 + i % 8] ^ 0x88;
    }
    float s8[8];
    gemv((int)k, s8, 8, rp.data(), xg.data(), 1, 8);
    for (int r = 0; r < 8; ++r) bad4 += s8[r] != DotQ4One(&w4[r * nb * kQ4Bytes], X.q.data(), X.d.data(), X.sum.data(), nb);
  }
  printf("quants %d q8_0 %d/%d q4_0 %d/%d\n", badQ, bad8, total, bad4, total);
  return 0;
}
