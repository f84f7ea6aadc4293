// A persistent thread pool for kernels. parallel_for splits [0, n) into one contiguous slice per
// thread, so each kernel decides its own partition granularity. Slice i is run by worker i or, when
// that worker has not picked it up by the time the calling thread is free, by the calling thread:
// on a machine where another process holds a core, a descheduled worker then costs nothing instead
// of stalling the job. Workers spin briefly before sleeping: kernels come back to back during a
// training step and a futex wake-up costs more than most of them.
#pragma once
#include <cstdint>

namespace dsllm {

int num_threads();
void set_num_threads(int n);

using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end, int thread);
void parallel_run(int64_t n, RangeFn fn, void* ctx, int64_t grain);

// fn(begin, end, slice): called once per slice with a non-empty range of [0, n); slices are numbered
// 0 .. parts-1 (parts ≤ num_threads()) in index order. `slice` names the range, not the OS thread:
// the calling thread may run several slices one after another, so per-slice scratch indexed by it is
// safe and thread_local scratch is too (the slices of one OS thread never overlap in time).
// grain: the smallest slice worth a thread; n <= grain runs inline. Nested or concurrent calls (from
// inside a slice, or from a second thread while a job runs) run inline as one slice.
template <typename F>
inline void parallel_for(int64_t n, int64_t grain, F&& fn) {
  auto tramp = [](void* c, int64_t b, int64_t e, int t) { (*static_cast<F*>(c))(b, e, t); };
  parallel_run(n, tramp, &fn, grain);
}

// Counters for tests: jobs handed to the pool, and slices that the calling thread ran for a worker
// that was late.
struct PoolStats {
  uint64_t jobs, taken_by_caller;
};
PoolStats pool_stats();

}  // namespace dsllm
