#include "common.h"
#include "parallel.h"

namespace dsllm {
void RegisterEmbed(Napi::Env env, Napi::Object exports) {}
}  // namespace dsllm
