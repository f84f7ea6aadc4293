// A persistent thread pool for kernels. parallel_for splits [0, n) into one contiguous range per
// thread (the calling thread takes range 0), so each kernel decides its own partition granularity.
// Workers spin briefly before sleeping: kernels come back to back during a training step and a
// futex wake-up costs more than most of them.
#pragma once
#include <cstdint>

namespace dsllm {

int num_threads();
void set_num_threads(int n);

using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end, int thread);
void parallel_run(int64_t n, RangeFn fn, void* ctx, int64_t grain);

// fn(begin, end, thread): called once per thread with a non-empty slice of [0, n).
// grain: the smallest slice worth a thread; n <= grain runs inline.
template <typename F>
inline void parallel_for(int64_t n, int64_t grain, F&& fn) {
  auto tramp = [](void* c, int64_t b, int64_t e, int t) { (*static_cast<F*>(c))(b, e, t); };
  parallel_run(n, tramp, &fn, grain);
}

}  // namespace dsllm
