// The addon's entry point: each kernel family adds its functions to one exports object.
#include "common.h"

namespace dsllm {
static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  RegisterMemory(env, exports);
  RegisterParallel(env, exports);
  RegisterGemm(env, exports);
  RegisterAttention(env, exports);
  RegisterNorm(env, exports);
  RegisterRope(env, exports);
  RegisterAct(env, exports);
  RegisterEmbed(env, exports);
  RegisterLoss(env, exports);
  RegisterOptim(env, exports);
  RegisterConvert(env, exports);
  RegisterElementwise(env, exports);
  RegisterMinhash(env, exports);
  RegisterQuant(env, exports);
  RegisterGemmPrepacked(env, exports);
  RegisterAttentionDecode(env, exports);
#if defined(__AVX512F__) && defined(__AVX512BF16__)
  exports.Set("isa", Napi::String::New(env, "avx512+bf16"));
#elif defined(__AVX512F__)
  exports.Set("isa", Napi::String::New(env, "avx512"));
#elif defined(__AVX2__)
  exports.Set("isa", Napi::String::New(env, "avx2"));
#else
  exports.Set("isa", Napi::String::New(env, "scalar"));
#endif
  return exports;
}
}  // namespace dsllm

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return dsllm::Init(env, exports); }
NODE_API_MODULE(dsllm, InitAddon)
