#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterRope(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
