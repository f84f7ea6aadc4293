// The inference model side: what `dsllm generate/chat/serve` and library users build models with.
//   InferenceModel.fromModel(deepSeekLM, { weights: 'q8_0' })     an in-memory (trained) model
//   InferenceModel.fromHFDir('path/to/hf-dir', { weights: 'keep' }) a Hugging Face directory (bf16 stays bf16)
//   InferenceModel.fromSource(source, opts)                         any WeightSource (GGUF: io/gguf-weights.ts)
// then newSequence() / step([{ seq, tokens }]) → logits, truncate(), freeSequence(), dispose().
export type { CausalLM, Sequence, StepInput } from './types.js';
export { InferenceModel, MAX_STEP_ROWS, type InferenceOptions } from './model.js';
export { loadWeights, checkArchitecture, type LoadOptions, type ModelWeights } from './load.js';
export { WeightMatrix, DOT_MAX_ROWS } from './weight-matrix.js';
export { HFDirSource } from './hf-source.js';
export { ModuleWeightSource } from './model-source.js';
export { RandomWeightSource } from './random-source.js';
export { QK, BLOCK_BYTES, weightByteSize, type WeightSource, type RawWeight, type WeightDType } from './weight-source.js';
export { ModelLoadError, ContextOverflowError, StepInputError, SUPPORTED_ARCHITECTURES } from './errors.js';
