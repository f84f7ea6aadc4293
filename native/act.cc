#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterAct(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
