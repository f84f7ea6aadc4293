// C++ entry to the GEMM for other kernel families (the JS binding lives in gemm.cc).
// C = alpha * op(A) . op(B) + beta * C, row-major, batched with element strides (0 = shared).
// Must be called from outside parallel_for (it uses the thread pool itself) unless `threaded` is
// false, in which case it runs on the calling thread only.
#pragma once
#include <cstdint>

namespace dsllm {

struct GemmParams {
  int64_t m = 0, n = 0, k = 0;
  const void* a = nullptr;  // f32, or bf16 bit patterns when aBf16
  const void* b = nullptr;
  float* c = nullptr;
  bool aBf16 = false, bBf16 = false;
  bool transA = false, transB = false;
  int64_t lda = 0, ldb = 0, ldc = 0;
  float alpha = 1.0f, beta = 0.0f;
  int64_t batch = 1, strideA = 0, strideB = 0, strideC = 0;
  bool bf16 = false;  // round A and B to bf16, accumulate in f32
  bool threaded = true;
};

void Gemm(const GemmParams& p);

}  // namespace dsllm
