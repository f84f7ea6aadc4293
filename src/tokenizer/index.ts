// dsllm tokenizer: byte-level BPE as DeepSeek LLM built it, with GGUF / tokenizer.json / tiktoken formats.
export { Tokenizer, type TokenizerSpec, type EncodeOptions, type StreamDecoder } from './tokenizer.js';
export { loadTokenizer, loadTokenizerSpec, saveHfJson, detectFormat } from './formats/load.js';
export { toHfJson, hfJsonToSpec } from './formats/hf.js';
export { readGgufMeta, parseGgufMeta, ggufToSpec } from './formats/gguf.js';
export { loadTiktokenSpec } from './formats/tiktoken.js';
export { compilePreTokenizer, type PreTokenizerJson } from './pretokenize.js';
export { DEEPSEEK_LLM_HF, ggufPreset } from './presets.js';
export { trainBpe, formatTrainReport, type TrainOptions } from './trainer.js';
export { TokenizerPool, type PoolOptions, type PoolSource, type FlatIds } from './pool.js';
export { tokenizerFingerprint } from './fingerprint.js';
export { renderChat, DEEPSEEK_CHAT_TEMPLATE } from './chat-template.js';
export { TokenizerError } from './errors.js';
