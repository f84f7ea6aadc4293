// Argument validation shared by every kernel binding. The addon trusts nothing it receives from JS:
// each binding checks types, lengths and sizes and throws a TypeError/RangeError naming the op and
// the argument, so a bad call is a JS exception, never a segfault.
#pragma once
#include <napi.h>
#include <cstdint>
#include <string>

namespace dsllm {

template <typename T>
struct Buf {
  T* ptr;
  size_t len;  // elements
};

struct AnyFloat {  // f32 or bf16 (Uint16Array) storage
  void* ptr;
  size_t len;
  bool bf16;
};

[[noreturn]] inline void Fail(Napi::Env env, const char* op, const std::string& msg) {
  throw Napi::TypeError::New(env, std::string("dsllm.") + op + ": " + msg);
}

inline void Require(Napi::Env env, bool cond, const char* op, const std::string& msg) {
  if (!cond) Fail(env, op, msg);
}

inline Napi::TypedArray TypedArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray()) Fail(info.Env(), op, std::string("argument '") + name + "' must be a typed array");
  return info[i].As<Napi::TypedArray>();
}

inline Buf<float> F32Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  auto t = TypedArg(info, i, op, name);
  if (t.TypedArrayType() != napi_float32_array) Fail(info.Env(), op, std::string("argument '") + name + "' must be a Float32Array");
  auto a = t.As<Napi::Float32Array>();
  return {a.Data(), a.ElementLength()};
}

inline Buf<uint16_t> U16Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  auto t = TypedArg(info, i, op, name);
  if (t.TypedArrayType() != napi_uint16_array) Fail(info.Env(), op, std::string("argument '") + name + "' must be a Uint16Array (bf16/f16 storage)");
  auto a = t.As<Napi::Uint16Array>();
  return {a.Data(), a.ElementLength()};
}

inline Buf<int32_t> I32Arg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  auto t = TypedArg(info, i, op, name);
  if (t.TypedArrayType() != napi_int32_array) Fail(info.Env(), op, std::string("argument '") + name + "' must be an Int32Array");
  auto a = t.As<Napi::Int32Array>();
  return {a.Data(), a.ElementLength()};
}

inline AnyFloat FloatArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  auto t = TypedArg(info, i, op, name);
  if (t.TypedArrayType() == napi_float32_array) {
    auto a = t.As<Napi::Float32Array>();
    return {a.Data(), a.ElementLength(), false};
  }
  if (t.TypedArrayType() == napi_uint16_array) {
    auto a = t.As<Napi::Uint16Array>();
    return {a.Data(), a.ElementLength(), true};
  }
  Fail(info.Env(), op, std::string("argument '") + name + "' must be a Float32Array (f32) or Uint16Array (bf16)");
}

// A non-negative integer that fits in int64 (sizes, strides, counts).
inline int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) Fail(info.Env(), op, std::string("argument '") + name + "' must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != (double)(int64_t)d || d > 9.0e15) Fail(info.Env(), op, std::string("argument '") + name + "' must be a non-negative integer, got " + std::to_string(d));
  return (int64_t)d;
}

inline double NumArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) Fail(info.Env(), op, std::string("argument '") + name + "' must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

inline bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean()) Fail(info.Env(), op, std::string("argument '") + name + "' must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

// Checks that a buffer holds at least `need` elements.
template <typename T>
inline void NeedLen(Napi::Env env, const char* op, const char* name, const T& buf, int64_t need) {
  if ((int64_t)buf.len < need)
    Fail(env, op, std::string("argument '") + name + "' holds " + std::to_string(buf.len) + " elements, needs at least " + std::to_string(need));
}

// Each kernel family registers its functions on the addon's exports.
using Registrar = void (*)(Napi::Env, Napi::Object);
void RegisterMemory(Napi::Env env, Napi::Object exports);
void RegisterParallel(Napi::Env env, Napi::Object exports);
void RegisterGemm(Napi::Env env, Napi::Object exports);
void RegisterAttention(Napi::Env env, Napi::Object exports);
void RegisterNorm(Napi::Env env, Napi::Object exports);
void RegisterRope(Napi::Env env, Napi::Object exports);
void RegisterAct(Napi::Env env, Napi::Object exports);
void RegisterEmbed(Napi::Env env, Napi::Object exports);
void RegisterLoss(Napi::Env env, Napi::Object exports);
void RegisterOptim(Napi::Env env, Napi::Object exports);
void RegisterConvert(Napi::Env env, Napi::Object exports);
void RegisterElementwise(Napi::Env env, Napi::Object exports);
void RegisterMinhash(Napi::Env env, Napi::Object exports);  // data pipeline: MinHash signatures (native/minhash.cc)
void RegisterQuant(Napi::Env env, Napi::Object exports);    // inference: Q8_0/Q4_0/bf16/f16 weights (native/quant.cc)
void RegisterGemmPrepacked(Napi::Env env, Napi::Object exports);    // inference: f32 weights packed once (native/gemm_prepacked.cc)
void RegisterAttentionDecode(Napi::Env env, Napi::Object exports);  // inference: batched decode attention (native/attention_decode.cc)

}  // namespace dsllm
