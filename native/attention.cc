#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterAttention(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
