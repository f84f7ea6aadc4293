// MinHash signatures for near-duplicate detection (the data pipeline's hot loop).
//
// Input: a batch of documents already simplified by src/data/dedup/normalize.ts into words separated by
// single spaces, concatenated as UTF-8 in `text`, with byte offsets `offsets` (numDocs + 1 entries).
// Each document's shingles are its n-word windows "w_i w_i+1 ... w_i+n-1" (exactly the bytes from the
// first word's start to the last word's end). A document with fewer than n words (but at least one)
// is one shingle; an empty document gets the all-ones signature (UINT64_MAX), which TS reads as "no
// signature".
//
// Each shingle is hashed with xxHash64 (seed 0), then permuted K times as datatrove does:
//   h_k = ((a_k * x + b_k) mod 2^64) mod (2^61 - 1)        (numpy uint64 arithmetic wraps, so does ours)
// and the signature keeps the minimum per k. src/data/dedup/minhash-ref.ts is the BigInt twin.
//
// text: (bytes)  offsets: (numDocs + 1) Int32  a, b: (K) BigUint64  out: (numDocs * K) BigUint64, written (=)
#include <cstring>
#include <vector>

#include "common.h"

namespace dsllm {
namespace {

constexpr uint64_t P1 = 11400714785074694791ULL, P2 = 14029467366897019727ULL, P3 = 1609587929392839161ULL,
                   P4 = 9650029242287828579ULL, P5 = 2870177450012600261ULL;
constexpr uint64_t kMersenne61 = (1ULL << 61) - 1;

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t Read64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }  // little-endian host
inline uint32_t Read32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t Round(uint64_t acc, uint64_t in) { return Rotl(acc + in * P2, 31) * P1; }
inline uint64_t Merge(uint64_t acc, uint64_t v) { return (acc ^ Round(0, v)) * P1 + P4; }

// xxHash64 (Yann Collet's specification), seed 0.
uint64_t Xxh64(const uint8_t* p, size_t len) {
  const uint8_t* end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0 - P1;
    const uint8_t* limit = end - 32;
    do {
      v1 = Round(v1, Read64(p)); v2 = Round(v2, Read64(p + 8));
      v3 = Round(v3, Read64(p + 16)); v4 = Round(v4, Read64(p + 24));
      p += 32;
    } while (p <= limit);
    h = Rotl(v1, 1) + Rotl(v2, 7) + Rotl(v3, 12) + Rotl(v4, 18);
    h = Merge(h, v1); h = Merge(h, v2); h = Merge(h, v3); h = Merge(h, v4);
  } else {
    h = P5;
  }
  h += (uint64_t)len;
  while (p + 8 <= end) { h ^= Round(0, Read64(p)); h = Rotl(h, 27) * P1 + P4; p += 8; }
  if (p + 4 <= end) { h ^= (uint64_t)Read32(p) * P1; h = Rotl(h, 23) * P2 + P3; p += 4; }
  while (p < end) { h ^= (*p) * P5; h = Rotl(h, 11) * P1; p++; }
  h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
  return h;
}

inline uint64_t ModMersenne61(uint64_t v) {
  uint64_t r = (v & kMersenne61) + (v >> 61);
  return r >= kMersenne61 ? r - kMersenne61 : r;
}

// sig[k] = min(sig[k], perm_k(x)). restrict lets the compiler vectorize (AVX-512 DQ has vpmullq).
inline void PermuteMin(uint64_t x, const uint64_t* __restrict a, const uint64_t* __restrict b, int64_t K,
                       uint64_t* __restrict sig) {
  for (int64_t k = 0; k < K; k++) {
    const uint64_t v = a[k] * x + b[k];
    uint64_t r = (v & kMersenne61) + (v >> 61);
    r = r >= kMersenne61 ? r - kMersenne61 : r;
    sig[k] = r < sig[k] ? r : sig[k];
  }
}

void SignOne(const uint8_t* doc, size_t len, int64_t n, const uint64_t* a, const uint64_t* b, int64_t K,
             uint64_t* sig, std::vector<uint32_t>& starts, std::vector<uint32_t>& ends) {
  starts.clear(); ends.clear();
  size_t i = 0;
  while (i < len) {
    while (i < len && doc[i] == ' ') i++;
    if (i >= len) break;
    starts.push_back((uint32_t)i);
    while (i < len && doc[i] != ' ') i++;
    ends.push_back((uint32_t)i);
  }
  for (int64_t k = 0; k < K; k++) sig[k] = UINT64_MAX;
  const int64_t words = (int64_t)starts.size();
  if (words == 0) return;
  const int64_t shingles = words >= n ? words - n + 1 : 1;
  for (int64_t s = 0; s < shingles; s++) {
    const uint32_t lo = starts[s], hi = ends[words >= n ? s + n - 1 : words - 1];
    PermuteMin(Xxh64(doc + lo, hi - lo), a, b, K, sig);
  }
}

Buf<uint8_t> U8Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  auto t = TypedArg(info, i, op, name);
  if (t.TypedArrayType() != napi_uint8_array) Fail(info.Env(), op, std::string("argument '") + name + "' must be a Uint8Array");
  auto a = t.As<Napi::Uint8Array>();
  return {a.Data(), a.ElementLength()};
}

Buf<uint64_t> U64Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  auto t = TypedArg(info, i, op, name);
  if (t.TypedArrayType() != napi_biguint64_array) Fail(info.Env(), op, std::string("argument '") + name + "' must be a BigUint64Array");
  auto a = t.As<Napi::TypedArrayOf<uint64_t>>();
  return {a.Data(), a.ElementLength()};
}

// minhashSignatures(text, offsets, nGrams, a, b, out) -> undefined
Napi::Value MinhashSignatures(const Napi::CallbackInfo& info) {
  const char* op = "minhashSignatures";
  Napi::Env env = info.Env();
  auto text = U8Arg(info, 0, op, "text");
  auto offsets = I32Arg(info, 1, op, "offsets");
  const int64_t n = IntArg(info, 2, op, "nGrams");
  auto a = U64Arg(info, 3, op, "a");
  auto b = U64Arg(info, 4, op, "b");
  auto out = U64Arg(info, 5, op, "out");
  Require(env, n >= 1, op, "nGrams must be >= 1");
  Require(env, offsets.len >= 1, op, "offsets must hold numDocs + 1 entries");
  Require(env, a.len == b.len && a.len >= 1, op, "a and b must have the same non-zero length K, got " + std::to_string(a.len) + " and " + std::to_string(b.len));
  const int64_t docs = (int64_t)offsets.len - 1, K = (int64_t)a.len;
  NeedLen(env, op, "out", out, docs * K);
  for (int64_t d = 0; d <= docs; d++) {
    const int32_t o = offsets.ptr[d];
    Require(env, o >= 0 && (size_t)o <= text.len, op, "offsets[" + std::to_string(d) + "] = " + std::to_string(o) + " is outside text (" + std::to_string(text.len) + " bytes)");
    Require(env, d == 0 || o >= offsets.ptr[d - 1], op, "offsets must be non-decreasing (offsets[" + std::to_string(d) + "])");
  }
  std::vector<uint32_t> starts, ends;
  for (int64_t d = 0; d < docs; d++) {
    const size_t lo = (size_t)offsets.ptr[d], hi = (size_t)offsets.ptr[d + 1];
    SignOne(text.ptr + lo, hi - lo, n, a.ptr, b.ptr, K, out.ptr + d * K, starts, ends);
  }
  return env.Undefined();
}

// xxh64(bytes) -> bigint: exposed so tests can check the hash against published test vectors
Napi::Value Xxh64Js(const Napi::CallbackInfo& info) {
  auto text = U8Arg(info, 0, "xxh64", "bytes");
  return Napi::BigInt::New(info.Env(), (uint64_t)Xxh64(text.ptr, text.len));
}

}  // namespace

void RegisterMinhash(Napi::Env env, Napi::Object exports) {
  exports.Set("minhashSignatures", Napi::Function::New(env, MinhashSignatures, "minhashSignatures"));
  exports.Set("xxh64", Napi::Function::New(env, Xxh64Js, "xxh64"));
}

}  // namespace dsllm
