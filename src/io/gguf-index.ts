// The GGUF part of the library API (re-exported by src/index.ts): read and write GGUF containers,
// export a model for llama.cpp, run a GGUF model in dsllm (as a WeightSource or a DeepSeekLM).
export { readGguf, parseGguf, readGgufTensor, GgufError, GGML_TYPES, type GgufFile, type GgufTensorInfo, type GgufValue } from './gguf.js';
export { writeGguf, kv as ggufKv, type KvEntry, type TensorToWrite } from './gguf-write.js';
export { exportGguf, EXPORT_TYPES, type ExportType, type ExportOptions, type ExportReport } from './gguf-export.js';
export { GgufWeightSource, loadGgufModel } from './gguf-weights.js';
export { quantizeQ8_0, quantizeQ4_0, dequantizeQ8_0, dequantizeQ4_0 } from './ggml-quants.js';
