// The thread pool behind parallel_for.
//
// A job (number g, counting up from 1) has `parts` slices; slice 0 is the calling thread's, slice
// i ≥ 1 belongs to worker i unless the caller takes it first. Ownership of a slice is decided by one
// compare-and-swap on the slot's `claimed` tag: whoever moves it from below g to g runs the slice
// (thread argument i either way, so per-slice scratch is the same whoever runs it). The caller runs
// slice 0, then claims every slice no worker has claimed yet and runs it, and then waits only for the
// slices that workers did claim. A worker that wakes after the caller took its slice finds the tag at
// g and goes back to waiting without touching the job; no acknowledgement is needed.
//
// Why a late worker can never run a stale or a newer job's slice: before job g is published, every
// slot's tag is already ≥ g − 1 (the caller claimed or was shown claimed every slice of job g − 1,
// and slots without a slice in a job are set to its number before it is published). A worker that
// read generation g' and slept claims only if the tag is still below g'; after job g' ended the tag
// is ≥ g', so the claim fails. A successful claim for g happens after the worker acquired
// generation == g (the job's fields are written before that release), and the caller writes the next
// job's fields only after seeing that worker's `done` = g, so the fields stay g's while it reads them.
#include "parallel.h"
#include "common.h"
#include <sched.h>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#include <immintrin.h>

namespace dsllm {

namespace {
// kernels run with denormals flushed (FTZ|DAZ): tiny gradients otherwise hit x86's ~100-cycle
// microcode path and slow whole kernels by 10× (seen on swigluBackward and AdamW here)
constexpr unsigned kFtzDaz = 0x8040;

// One worker's slot, on its own cache line. claimed: the newest job whose slice for this slot has an
// owner; done: the newest job whose slice for this slot was finished (by the worker or the caller).
struct alignas(64) Slot {
  std::atomic<uint64_t> claimed{0};
  std::atomic<uint64_t> done{0};
};

struct Pool {
  std::vector<std::thread> workers;
  std::unique_ptr<Slot[]> slots;  // [size]; slot 0 (the caller's) unused
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> busy{false};  // a job is in flight: a nested or concurrent call runs inline
  // the current job, written by the caller before it publishes the job's generation
  RangeFn fn = nullptr;
  void* ctx = nullptr;
  int64_t n = 0;
  int parts = 1;
  int size = 1;  // total threads including the caller
  // a slice that threw on a worker: rethrown by the caller once the job is over
  std::mutex errMu;
  std::exception_ptr error;
  std::atomic<uint64_t> jobs{0}, taken{0};

  static void slice(int64_t n, int parts, int i, int64_t* b, int64_t* e) {
    int64_t base = n / parts, rem = n % parts;
    *b = i * base + (i < rem ? i : rem);
    *e = *b + base + (i < rem ? 1 : 0);
  }

  bool claim(int i, uint64_t g) {
    uint64_t c = slots[i].claimed.load(std::memory_order_acquire);
    return c < g && slots[i].claimed.compare_exchange_strong(c, g, std::memory_order_acq_rel);
  }

  void runSlice(int i) {
    int64_t b, e;
    slice(n, parts, i, &b, &e);
    if (b < e) fn(ctx, b, e, i);
  }

  void worker(int id, uint64_t seen) {
    _mm_setcsr(_mm_getcsr() | kFtzDaz);
    for (;;) {
      // spin a little, then sleep on the condition variable
      int spins = 0;
      while (generation.load(std::memory_order_acquire) == seen && spins < 20000) { _mm_pause(); ++spins; }
      if (generation.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait(lk, [&] { return stop.load(std::memory_order_acquire) || generation.load(std::memory_order_acquire) != seen; });
      }
      if (stop.load(std::memory_order_acquire)) return;
      const uint64_t g = generation.load(std::memory_order_acquire);
      seen = g;
      if (!claim(id, g)) continue;  // the caller ran it, or this slot has no slice in job g
      try {
        runSlice(id);
      } catch (...) {
        std::lock_guard<std::mutex> lk(errMu);
        if (!error) error = std::current_exception();
      }
      slots[id].done.store(g, std::memory_order_release);
    }
  }

  void resize(int total) {
    shutdown();
    stop.store(false, std::memory_order_release);
    size = total < 1 ? 1 : total;
    // new workers and slots start from the current generation: an old job must not run again
    const uint64_t gen = generation.load(std::memory_order_acquire);
    slots.reset(new Slot[size]);
    for (int i = 0; i < size; ++i) {
      slots[i].claimed.store(gen, std::memory_order_relaxed);
      slots[i].done.store(gen, std::memory_order_relaxed);
    }
    for (int i = 1; i < size; ++i) workers.emplace_back([this, i, gen] { worker(i, gen); });
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lk(mu);
      stop.store(true, std::memory_order_release);
    }
    cv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }

  void run(int64_t count, RangeFn f, void* c, int64_t grain) {
    // the calling thread is V8's: flush denormals only while the kernel runs, then restore JS's mode
    struct CsrGuard {
      unsigned saved = _mm_getcsr();
      CsrGuard() { _mm_setcsr(saved | kFtzDaz); }
      ~CsrGuard() { _mm_setcsr(saved); }
    } csr;
    int p = size;
    if (grain < 1) grain = 1;
    if (count / grain < p) p = (int)(count / grain);
    if (p <= 1 || busy.exchange(true, std::memory_order_acquire)) {
      if (count > 0) f(c, 0, count, 0);
      return;
    }
    const uint64_t g = generation.load(std::memory_order_relaxed) + 1;
    fn = f; ctx = c; n = count; parts = p;
    for (int i = p; i < size; ++i) slots[i].claimed.store(g, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(mu);
      generation.store(g, std::memory_order_release);
    }
    cv.notify_all();
    jobs.store(jobs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one caller at a time

    std::exception_ptr mine;
    auto guarded = [&](int i) {
      try {
        runSlice(i);
      } catch (...) {
        if (!mine) mine = std::current_exception();
      }
    };
    guarded(0);
    // then every slice whose worker has not started (highest first: the lowest workers wake first)
    for (int i = p - 1; i >= 1; --i) {
      if (!claim(i, g)) continue;
      taken.store(taken.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      guarded(i);
      slots[i].done.store(g, std::memory_order_relaxed);  // only this thread waits on it
    }
    // wait for the slices that workers claimed (the caller's own are marked done): spin (the common
    // case: they finish within microseconds), then yield the core so an oversubscribed machine does
    // not starve them
    for (int i = 1; i < p; ++i)
      for (int spins = 0; slots[i].done.load(std::memory_order_acquire) < g; ++spins) {
        if (spins < 4000) _mm_pause();
        else std::this_thread::yield();
      }
    std::exception_ptr theirs;
    {
      std::lock_guard<std::mutex> lk(errMu);
      std::swap(theirs, error);
    }
    busy.store(false, std::memory_order_release);
    if (mine) std::rethrow_exception(mine);
    if (theirs) std::rethrow_exception(theirs);
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
PoolStats pool_stats() {
  Pool& p = pool();
  return {p.jobs.load(std::memory_order_relaxed), p.taken.load(std::memory_order_relaxed)};
}

void RegisterParallel(Napi::Env env, Napi::Object exports) {
  exports.Set("numThreads", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), num_threads());
  }));
  exports.Set("setNumThreads", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    int64_t n = IntArg(info, 0, "setNumThreads", "n");
    Require(info.Env(), n >= 1 && n <= 256, "setNumThreads", "n must be in [1, 256]");
    set_num_threads((int)n);
  }));
  // Pins the calling thread (a worker thread when called from one) to one CPU: on a VM whose vCPUs
  // run at different speeds (a busy neighbour on one), benchmarks pin to know which thread got which.
  exports.Set("pinThread", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    int64_t cpu = IntArg(info, 0, "pinThread", "cpu");
    Require(info.Env(), cpu >= 0 && cpu < CPU_SETSIZE, "pinThread", "cpu out of range");
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    return Napi::Boolean::New(info.Env(), sched_setaffinity(0, sizeof set, &set) == 0);
  }));
  exports.Set("currentCpu", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), sched_getcpu());
  }));
  // {jobs, takenByCaller}: how often the calling thread ran a late worker's slice (tests use it to
  // check that path ran)
  exports.Set("poolStats", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    PoolStats s = pool_stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("jobs", Napi::Number::New(info.Env(), (double)s.jobs));
    o.Set("takenByCaller", Napi::Number::New(info.Env(), (double)s.taken_by_caller));
    return o;
  }));
}

}  // namespace dsllm
