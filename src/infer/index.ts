// The inference model side: what `dsllm generate/chat/serve` and library users build models with.
export type { CausalLM, Sequence, StepInput } from './types.js';
export { InferenceModel, type InferenceOptions } from './model.js';
export { loadWeights, checkArchitecture, type LoadOptions, type ModelWeights } from './load.js';
export { WeightMatrix, DOT_MAX_ROWS } from './weight-matrix.js';
export { HFDirSource } from './hf-source.js';
export { ModuleWeightSource } from './model-source.js';
export { RandomWeightSource } from './random-source.js';
export { QK, BLOCK_BYTES, weightByteSize, type WeightSource, type RawWeight, type WeightDType } from './weight-source.js';
export { ModelLoadError, ContextOverflowError, SUPPORTED_ARCHITECTURES } from './errors.js';
