// llama.cpp's `llama` architecture in GGUF terms: tensor names, the `llama.*` hyperparameter keys,
// and the row permutation of Wq/Wk. HF (and dsllm) apply RoPE "rotate-half" style — dimension i of
// a head pairs with i + D/2 — while llama.cpp's LLM_ARCH_LLAMA pairs 2i with 2i+1. convert_hf_to_gguf
// reorders the rows of q_proj/k_proj per head so both compute the same function:
//   gguf row h·D + 2i + j  =  HF row h·D + j·D/2 + i      (i < D/2, j ∈ {0,1})
import { GgufError, ggufGet, type GgufFile } from './gguf.js';
import { kv, type KvEntry } from './gguf-write.js';
import { headDim, validateConfig, type ModelConfig } from '../nn/config.js';

/** HF weight name → llama.cpp tensor name (null for names that are not part of the architecture) */
export function ggufName(hf: string): string | null {
  if (hf === 'model.embed_tokens.weight') return 'token_embd.weight';
  if (hf === 'model.norm.weight') return 'output_norm.weight';
  if (hf === 'lm_head.weight') return 'output.weight';
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hf);
  if (!m) return null;
  const part = LAYER_PARTS[m[2]];
  return part ? `blk.${m[1]}.${part}.weight` : null;
}

const LAYER_PARTS: Record<string, string> = {
  input_layernorm: 'attn_norm', 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output', post_attention_layernorm: 'ffn_norm', 'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
};
const PART_OF = Object.fromEntries(Object.entries(LAYER_PARTS).map(([k, v]) => [v, k]));

/** llama.cpp tensor name → HF weight name, or null */
export function hfName(gguf: string): string | null {
  if (gguf === 'token_embd.weight') return 'model.embed_tokens.weight';
  if (gguf === 'output_norm.weight') return 'model.norm.weight';
  if (gguf === 'output.weight') return 'lm_head.weight';
  const m = /^blk\.(\d+)\.(.+)\.weight$/.exec(gguf);
  if (!m || !PART_OF[m[2]]) return null;
  return `model.layers.${m[1]}.${PART_OF[m[2]]}.weight`;
}

/** heads whose rows a weight's RoPE permutation runs over (q: attention heads, k: KV heads), or 0 */
export function ropeHeads(hf: string, c: ModelConfig): number {
  if (hf.endsWith('.self_attn.q_proj.weight')) return c.num_attention_heads;
  if (hf.endsWith('.self_attn.k_proj.weight')) return c.num_key_value_heads;
  return 0;
}

/**
 * Reorders whole rows (each `rowBytes` long, any storage type) of a [heads·D, …] weight between the
 * HF and llama.cpp RoPE layouts. `toGguf` false undoes it.
 */
export function permuteRopeRows(src: Uint8Array, heads: number, D: number, rowBytes: number, toGguf: boolean): Uint8Array {
  if (src.byteLength !== heads * D * rowBytes) throw new RangeError(`permuteRopeRows: ${src.byteLength} bytes is not ${heads}×${D} rows of ${rowBytes}`);
  const out = new Uint8Array(src.byteLength);
  const half = D / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const g = h * D + 2 * i + j, f = h * D + j * half + i;
        const [from, to] = toGguf ? [f, g] : [g, f];
        out.set(src.subarray(from * rowBytes, (from + 1) * rowBytes), to * rowBytes);
      }
    }
  }
  return out;
}

/** llama.cpp's general.file_type (LLAMA_FTYPE_*) for an export type */
export const FILE_TYPE = { f32: 0, f16: 1, q4_0: 2, q8_0: 7, bf16: 32 } as const;

/** The `general.*` and `llama.*` keys of a model. */
export function llamaKv(c: ModelConfig, name: string, fileType: number): KvEntry[] {
  const D = headDim(c);
  const out = [
    kv.str('general.architecture', 'llama'),
    kv.str('general.name', name),
    kv.u32('general.file_type', fileType),
    kv.u32('general.quantization_version', 2),
    kv.u32('llama.context_length', c.max_position_embeddings),
    kv.u32('llama.embedding_length', c.hidden_size),
    kv.u32('llama.block_count', c.num_hidden_layers),
    kv.u32('llama.feed_forward_length', c.intermediate_size),
    kv.u32('llama.attention.head_count', c.num_attention_heads),
    kv.u32('llama.attention.head_count_kv', c.num_key_value_heads),
    kv.f32('llama.attention.layer_norm_rms_epsilon', c.rms_norm_eps),
    kv.f32('llama.rope.freq_base', c.rope_theta),
    kv.u32('llama.rope.dimension_count', D),
    kv.u32('llama.vocab_size', c.vocab_size),
  ];
  // llama.cpp assumes head_dim = hidden/heads unless told
  if (D * c.num_attention_heads !== c.hidden_size) out.push(kv.u32('llama.attention.key_length', D), kv.u32('llama.attention.value_length', D));
  return out;
}

export const SUPPORTED_ARCHITECTURES = ['llama'];

/** The model config a GGUF file describes (architecture `llama` only). */
export function llamaConfig(f: GgufFile): ModelConfig {
  const arch = ggufGet<string>(f, 'general.architecture', 'string');
  if (!SUPPORTED_ARCHITECTURES.includes(arch)) {
    throw new GgufError(`${f.path}: architecture ${JSON.stringify(arch)} is not supported`, { code: 'E_GGUF_ARCH', hint: `supported: ${SUPPORTED_ARCHITECTURES.join(', ')} (DeepSeek LLM and other LLaMA-shaped models)` });
  }
  const n = (k: string) => ggufGet<number>(f, `llama.${k}`, 'number');
  const opt = (k: string) => ggufGet<number>(f, `llama.${k}`, 'number', true);
  const scaling = ggufGet<string>(f, 'llama.rope.scaling.type', 'string', true);
  if (scaling !== undefined && scaling !== 'none') {
    throw new GgufError(`${f.path}: RoPE scaling ${JSON.stringify(scaling)} (llama.rope.scaling.type) is not supported`, { code: 'E_GGUF_ARCH', hint: 'DeepSeek LLM uses plain RoPE' });
  }
  const heads = n('attention.head_count');
  const hidden = n('embedding_length');
  const D = opt('attention.key_length') ?? hidden / heads;
  const ropeDims = opt('rope.dimension_count') ?? D;
  if (ropeDims !== D) throw new GgufError(`${f.path}: llama.rope.dimension_count ${ropeDims} ≠ head size ${D}: partial RoPE is not supported`, { code: 'E_GGUF_ARCH' });
  const vl = opt('attention.value_length');
  if (vl !== undefined && vl !== D) throw new GgufError(`${f.path}: value head size ${vl} ≠ key head size ${D} is not supported`, { code: 'E_GGUF_ARCH' });
  const tokens = f.kv.get('tokenizer.ggml.tokens');
  const emb = f.byName.get('token_embd.weight');
  const vocab = opt('vocab_size') ?? (Array.isArray(tokens) ? tokens.length : emb?.ne[1]);
  if (vocab === undefined) throw new GgufError(`${f.path}: no llama.vocab_size, tokenizer.ggml.tokens or token_embd.weight to size the vocabulary`, { code: 'E_GGUF_KEY' });
  const bos = ggufGet<number>(f, 'tokenizer.ggml.bos_token_id', 'number', true);
  const eos = ggufGet<number>(f, 'tokenizer.ggml.eos_token_id', 'number', true);
  const raw: Partial<ModelConfig> = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu',
    vocab_size: vocab, hidden_size: hidden, intermediate_size: n('feed_forward_length'),
    num_hidden_layers: n('block_count'), num_attention_heads: heads,
    num_key_value_heads: opt('attention.head_count_kv') ?? heads,
    max_position_embeddings: n('context_length'),
    // stored as f32: widen to the nearest short decimal (1e-6, not 9.99999997e-7)
    rms_norm_eps: Number(Math.fround(n('attention.layer_norm_rms_epsilon')).toPrecision(7)),
    rope_theta: Number((opt('rope.freq_base') ?? 10000).toPrecision(7)),
    tie_word_embeddings: !f.byName.has('output.weight'),
    ...(D * heads !== hidden ? { head_dim: D } : {}),
    ...(bos !== undefined ? { bos_token_id: bos } : {}),
    ...(eos !== undefined ? { eos_token_id: eos } : {}),
  };
  return validateConfig(raw, f.path);
}
