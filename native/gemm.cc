#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterGemm(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
