#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterElementwise(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
