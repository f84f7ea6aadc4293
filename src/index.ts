// dsllm's typed library API. Importing it selects the native backend (or the TypeScript reference
// one with DSLLM_BACKEND=reference).
import { selectBackend } from './backends/select.js';

export const backend = await selectBackend();

export * from './core/dtype.js';
export type { Kernels, GemmArgs, AttentionArgs } from './core/backend.js';
export { Tensor, numelOf, contiguousStrides } from './core/tensor.js';
export { scope, keep } from './core/scope.js';
export { kernels, useBackend } from './core/runtime.js';
export { backward, noGrad, gradOf } from './core/autograd.js';
export { OpError, inLayer } from './core/errors.js';
export { selectBackend } from './backends/select.js';
export { setComputeDType } from './ops/precision.js';
export { linear } from './ops/linear.js';
export { rmsnorm } from './ops/rmsnorm.js';
export { rope, ropeTables } from './ops/rope.js';
export { attention } from './ops/attention.js';
export { swiglu } from './ops/swiglu.js';
export { embedding } from './ops/embedding.js';
export { add } from './ops/add.js';
export { lmHeadLoss } from './ops/lm-head-loss.js';
export * from './nn/config.js';
export { DeepSeekLM } from './nn/deepseek.js';
export { AdamW } from './optim/adamw.js';
export { learningRate } from './optim/schedule.js';
export type { Schedule, MultiStepSchedule, CosineSchedule } from './optim/schedule.js';
export { Rng } from './util/rng.js';
// tokenizer: byte-level BPE (DeepSeek's pre-tokenizer), formats, trainer, worker pool, chat template
export * from './tokenizer/index.js';
// inference: the model contract, the generation engine (continuous batching), sampling, loading
export type { CausalLM, Sequence, StepInput, Engine, GenerationRequest, GenerationResult, TokenEvent, SamplingOptions } from './infer/types.js';
export { createEngine, GenerationEngine, type EngineOptions } from './infer/engine.js';
export { Sampler, resolveSampling, logprobsOf } from './infer/sampler.js';
export { RecomputeLM } from './infer/recompute.js';
export { loadCausalLM, type LoadedModel, type LoadCausalLMOptions, type ChatFormat } from './infer/load-causal-lm.js';
export { chatPromptIds } from './infer/chat-prompt.js';
export { InferenceError } from './infer/generate-errors.js';
// scaling laws: planner, sweeps, fits, reports
export * from './scaling/index.js';
// GGUF: read/write, export for llama.cpp, GGUF models as weight sources
export * from './io/gguf-index.js';
// serving: the OpenAI-compatible HTTP server and web chat page over an Engine
export { createDsllmServer, ApiError, type DsllmServer, type ServeOptions } from './serve/index.js';
export { InferenceModel, HFDirSource, RandomWeightSource, WeightMatrix, ModelLoadError, ContextOverflowError, StepInputError, SUPPORTED_ARCHITECTURES, type InferenceOptions, type WeightSource, type RawWeight, type WeightDType } from './infer/index.js';
