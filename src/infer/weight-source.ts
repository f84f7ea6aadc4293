// Where an inference model's weights come from. A WeightSource hands out one tensor at a time (so a
// 7B checkpoint streams through memory instead of being held twice): HF directories
// (infer/hf-source.ts), GGUF files (io/gguf*), or an in-memory DeepSeekLM (infer/model-source.ts)
// all implement it, and `InferenceModel.fromSource()` builds the model from any of them.
import type { ModelConfig } from '../nn/config.js';
import type { WeightFormat } from '../core/backend.js';

/**
 * Storage formats of a weight. f32/bf16/f16 are plain row-major element arrays (16-bit formats as bit
 * patterns). q8_0 and q4_0 are GGUF's block formats, blocks of 32 consecutive elements of a row:
 *   - q8_0: 34 bytes = f16 scale d, then 32 int8 q;                 x = d·q
 *   - q4_0: 18 bytes = f16 scale d, then 16 bytes of 4-bit q: byte j holds element j in its low
 *     nibble and element j+16 in its high nibble;                   x = d·(q − 8)
 * A quantized matrix [rows, cols] needs cols % 32 = 0 and takes rows·cols/32 blocks, row after row.
 */
export type WeightDType = WeightFormat;

export const QK = 32;
export const BLOCK_BYTES = { q8_0: 34, q4_0: 18 } as const;

/** bytes a [rows, cols] matrix (or a vector when rows = 1) takes in a format */
export function weightByteSize(dtype: WeightDType, rows: number, cols: number): number {
  switch (dtype) {
    case 'f32': return rows * cols * 4;
    case 'bf16': case 'f16': return rows * cols * 2;
    case 'q8_0': case 'q4_0':
      if (cols % QK !== 0) throw new RangeError(`${dtype}: a row of ${cols} elements is not a whole number of ${QK}-element blocks`);
      return rows * (cols / QK) * BLOCK_BYTES[dtype];
  }
}

export interface RawWeight {
  dtype: WeightDType;
  /** PyTorch/HF order: [out_features, in_features] for a matrix (the last dim is contiguous), [n] for a vector */
  shape: number[];
  /** exactly weightByteSize(dtype, …) bytes, little-endian; the model may keep a view of it */
  bytes: Uint8Array;
}

/**
 * A model's configuration and its tensors under Hugging Face LlamaForCausalLM names:
 *   model.embed_tokens.weight [V, d], model.norm.weight [d], lm_head.weight [V, d] (may be absent
 *   when config.tie_word_embeddings), and per layer N: model.layers.N.{input_layernorm,
 *   post_attention_layernorm}.weight [d], .self_attn.{q,k,v,o}_proj.weight, .mlp.{gate,up,down}_proj.weight.
 * q_proj/k_proj rows are in HF's rotate-half RoPE layout (a GGUF source undoes llama.cpp's permutation).
 */
export interface WeightSource {
  readonly config: ModelConfig;
  /** where the weights come from (a path), for error messages */
  readonly origin: string;
  names(): string[];
  /** throws a clear error naming the origin when the tensor is missing or unreadable */
  get(name: string): RawWeight;
  /** releases file handles; optional */
  close?(): void;
}
