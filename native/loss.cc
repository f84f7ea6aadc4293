#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterLoss(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
