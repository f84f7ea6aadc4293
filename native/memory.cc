// Tensor storage lives in native memory: 64-byte aligned blocks handed to JS as ArrayBuffers over
// V8 backing stores. Freed blocks go back to a size-class cache (as PyTorch's CPU caching allocator
// does) so a training step that allocates the same activations every step does not hit mmap/munmap
// and page faults each time. The blocks are deliberately not reported to V8 as external memory:
// lifetimes are explicit (dispose/scope), and V8 answers reported growth with full GCs, which cost
// milliseconds per allocation in a training step. `free` detaches the ArrayBuffer, so a use after dispose is a JS
// error (length 0), not a read of recycled memory.
#include "common.h"
#include <v8.h>
#include <cstdlib>
#include <cstring>
#include <map>
#include <unordered_map>
#include <mutex>
#include <vector>
#include <sys/mman.h>

namespace dsllm {

namespace {
struct Cache {
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;  // capacity -> block
  size_t cached_bytes = 0;
  size_t live_bytes = 0;
  size_t peak_live_bytes = 0;
  size_t limit = (size_t)4 << 30;  // cached bytes kept for reuse

  static size_t round_up(size_t n) {
    // size classes: multiples of 4 KiB below 1 MiB, then of 1/16th of the next power of two
    if (n < 64) return 64;
    if (n < (1u << 20)) return (n + 4095) & ~(size_t)4095;
    size_t p = 1;
    while (p < n) p <<= 1;
    size_t step = p / 16;
    return (n + step - 1) / step * step;
  }

  void* take(size_t cap) {
    std::lock_guard<std::mutex> lk(mu);
    auto it = free_blocks.find(cap);
    void* p = nullptr;
    if (it != free_blocks.end()) {
      p = it->second;
      free_blocks.erase(it);
      cached_bytes -= cap;
    }
    live_bytes += cap;
    if (live_bytes > peak_live_bytes) peak_live_bytes = live_bytes;
    return p;
  }

  void give(void* p, size_t cap) {
    std::lock_guard<std::mutex> lk(mu);
    live_bytes -= cap;
    if (cached_bytes + cap > limit) {
      std::free(p);
      return;
    }
    free_blocks.emplace(cap, p);
    cached_bytes += cap;
  }

  void trim() {
    std::lock_guard<std::mutex> lk(mu);
    for (auto& kv : free_blocks) std::free(kv.second);
    free_blocks.clear();
    cached_bytes = 0;
  }
};

// Large blocks (>= 4 MiB, numpy's threshold) sit on 2 MiB boundaries and ask for transparent huge
// pages, as numpy does for its arrays: a GEMM walking the rows of a 4096-wide f32 matrix touches a
// new 4 KiB page every 16 KiB, and on a VM each TLB miss is a two-level page walk (one thread at
// n = 4096 ran 133 GFLOP/s on 4 KiB pages, 188 on 2 MiB ones). Allocation also faults 512x fewer times.
constexpr size_t kHugeMin = (size_t)4 << 20, kHugePage = (size_t)2 << 20;

// DSLLM_HUGEPAGES=0 turns this off (plain 64-byte aligned blocks)
bool huge_pages_wanted() {
  static const bool on = [] { const char* v = std::getenv("DSLLM_HUGEPAGES"); return !(v && v[0] == '0'); }();
  return on;
}

void* allocate_block(size_t cap) {
  if (cap < kHugeMin || !huge_pages_wanted()) return std::aligned_alloc(64, cap);
  size_t rounded = (cap + kHugePage - 1) & ~(kHugePage - 1);
  void* p = std::aligned_alloc(kHugePage, rounded);
#ifdef MADV_HUGEPAGE
  if (p) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without THP the block is ordinary memory
#endif
  return p;
}

Cache& cache() {
  static Cache* c = new Cache();
  return *c;
}

struct Block {
  size_t cap;
};

// live blocks by address, so free() can refuse a buffer it did not make (or one freed already)
std::mutex registry_mu;
std::unordered_map<void*, Block*>& registry() {
  static auto* r = new std::unordered_map<void*, Block*>();
  return *r;
}

// The backing store's deleter: V8 calls it when the last ArrayBuffer holding the block lets go —
// at once when free() detaches it, or when the GC collects an undisposed one (possibly on a GC
// thread, hence the locks). Node-API's own external ArrayBuffers would run their finalizer only
// on a later turn of the event loop (node::Buffer defers it with SetImmediate), and a training
// loop is synchronous: their bookkeeping piled up at ~40 KB per nano step, 7% RSS growth in 1,000.
void ReturnBlock(void* data, size_t, void* hint) {
  auto* blk = static_cast<Block*>(hint);
  {
    std::lock_guard<std::mutex> lk(registry_mu);  // erase before give: the address may be reused at once
    auto it = registry().find(data);
    if (it != registry().end() && it->second == blk) registry().erase(it);
  }
  cache().give(data, blk->cap);
  delete blk;
}

// A v8::Local as the napi_value Node-API hands around (Node's JsValueFromV8LocalValue does the same
// cast; the addon is built against the running Node's headers, so the two always agree).
napi_value AsNapiValue(v8::Local<v8::Value> v) { return reinterpret_cast<napi_value>(*v); }
}  // namespace

void RegisterMemory(Napi::Env env, Napi::Object exports) {
  // alloc(bytes, zero) -> ArrayBuffer (64-byte aligned, native memory)
  exports.Set("alloc", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
    Napi::Env env = info.Env();
    int64_t bytes = IntArg(info, 0, "alloc", "bytes");
    bool zero = info.Length() > 1 && info[1].ToBoolean().Value();
    if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);  // no block: V8 keeps no pointer for an empty store
    size_t cap = Cache::round_up((size_t)bytes);
    void* p = cache().take(cap);
    if (!p) {
      p = allocate_block(cap);
      if (!p) {
        cache().give(nullptr, cap);
        throw Napi::RangeError::New(env, "dsllm.alloc: out of memory allocating " + std::to_string(bytes) + " bytes");
      }
    }
    if (zero) std::memset(p, 0, (size_t)bytes);
    auto* blk = new Block{cap};
    {
      std::lock_guard<std::mutex> lk(registry_mu);
      registry()[p] = blk;
    }
    auto store = v8::ArrayBuffer::NewBackingStore(p, (size_t)bytes, ReturnBlock, blk);
    return Napi::Value(env, AsNapiValue(v8::ArrayBuffer::New(v8::Isolate::GetCurrent(), std::move(store))));
  }));
  // free(arrayBuffer): detach the buffer now, which hands the block back (ReturnBlock); views of it
  // then have length 0, so a later use fails validation instead of reading recycled memory
  exports.Set("free", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArrayBuffer()) Fail(env, "free", "argument must be an ArrayBuffer from alloc()");
    auto ab = info[0].As<Napi::ArrayBuffer>();
    if (ab.IsDetached()) return;
    if (ab.ByteLength() == 0) { ab.Detach(); return; }  // empty: alloc(0) made no block
    {
      std::lock_guard<std::mutex> lk(registry_mu);
      if (registry().find(ab.Data()) == registry().end()) Fail(env, "free", "this ArrayBuffer was not made by alloc() or is already freed");
    }
    ab.Detach();
  }));
  exports.Set("memoryStats", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    auto o = Napi::Object::New(info.Env());
    auto& c = cache();
    std::lock_guard<std::mutex> lk(c.mu);
    o.Set("liveBytes", (double)c.live_bytes);
    o.Set("peakLiveBytes", (double)c.peak_live_bytes);
    o.Set("cachedBytes", (double)c.cached_bytes);
    return o;
  }));
  exports.Set("trimCache", Napi::Function::New(env, [](const Napi::CallbackInfo&) { cache().trim(); }));
}

}  // namespace dsllm
