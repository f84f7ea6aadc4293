#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterNorm(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
