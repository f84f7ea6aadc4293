#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterConvert(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
