#include "parallel.h"
#include "common.h"
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>
#include <immintrin.h>

namespace dsllm {

namespace {
struct Pool {
  std::vector<std::thread> workers;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  RangeFn fn = nullptr;
  void* ctx = nullptr;
  int64_t n = 0;
  int active = 1;  // threads taking part in the current job (including the caller)
  int size = 1;    // total threads including the caller
  bool stop = false;

  static void slice(int64_t n, int parts, int i, int64_t* b, int64_t* e) {
    int64_t base = n / parts, rem = n % parts;
    *b = i * base + (i < rem ? i : rem);
    *e = *b + base + (i < rem ? 1 : 0);
  }

  void worker(int id) {
    uint64_t seen = 0;
    for (;;) {
      // spin a little, then sleep on the condition variable
      int spins = 0;
      while (generation.load(std::memory_order_acquire) == seen && spins < 20000) { _mm_pause(); ++spins; }
      if (generation.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return stop || generation.load(std::memory_order_acquire) != seen; });
      }
      if (stop) return;
      seen = generation.load(std::memory_order_acquire);
      if (id < active) {
        int64_t b, e;
        slice(n, active, id, &b, &e);
        if (b < e) fn(ctx, b, e, id);
      }
      // every worker acknowledges every job, so the next job's fields are never written while a
      // late worker may still read this one's
      pending.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  void resize(int total) {
    shutdown();
    stop = false;
    size = total < 1 ? 1 : total;
    for (int i = 1; i < size; ++i) workers.emplace_back([this, i] { worker(i); });
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lk(mu);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }

  void run(int64_t count, RangeFn f, void* c, int64_t grain) {
    int parts = size;
    if (grain < 1) grain = 1;
    if (count / grain < parts) parts = (int)(count / grain);
    if (parts <= 1) {
      if (count > 0) f(c, 0, count, 0);
      return;
    }
    fn = f; ctx = c; n = count; active = parts;
    pending.store(size - 1, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lk(mu);
      generation.fetch_add(1, std::memory_order_acq_rel);
    }
    cv.notify_all();
    int64_t b, e;
    slice(count, parts, 0, &b, &e);
    f(c, b, e, 0);
    while (pending.load(std::memory_order_acquire) != 0) _mm_pause();
  }
};

Pool& pool() {
  static Pool* p = [] {
    auto* q = new Pool();
    int n = (int)std::thread::hardware_concurrency();
    if (const char* env = std::getenv("DSLLM_THREADS")) n = std::atoi(env);
    q->resize(n < 1 ? 1 : n);
    return q;
  }();
  return *p;
}
}  // namespace

int num_threads() { return pool().size; }
void set_num_threads(int n) { pool().resize(n); }
void parallel_run(int64_t n, RangeFn fn, void* ctx, int64_t grain) { pool().run(n, fn, ctx, grain); }

void RegisterParallel(Napi::Env env, Napi::Object exports) {
  exports.Set("numThreads", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), num_threads());
  }));
  exports.Set("setNumThreads", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    int64_t n = IntArg(info, 0, "setNumThreads", "n");
    Require(info.Env(), n >= 1 && n <= 256, "setNumThreads", "n must be in [1, 256]");
    set_num_threads((int)n);
  }));
}

}  // namespace dsllm
