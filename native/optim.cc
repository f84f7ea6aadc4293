#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterOptim(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
