// Model configuration in Hugging Face `config.json` form (LlamaForCausalLM fields), the presets the
// project ships, validation with clear errors, and counting (parameters, FLOPs) without allocating.
import { readFileSync, existsSync } from 'node:fs';

export interface ModelConfig {
  architectures?: string[];
  model_type?: string;
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim?: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  /** transformers ≥ 5 writes RoPE settings here ({rope_type: "default", rope_theta}) instead of
   *  top-level rope_theta / rope_scaling; validateConfig folds rope_theta out of it */
  rope_parameters?: { rope_type?: string; rope_theta?: number; [k: string]: unknown };
  hidden_act?: string;
  tie_word_embeddings?: boolean;
  bos_token_id?: number;
  eos_token_id?: number;
  /** init std for pre-training; the paper uses 0.006 (HF's initializer_range default is 0.02) */
  initializer_range?: number;
  torch_dtype?: string;
  attention_bias?: boolean;
  mlp_bias?: boolean;
  /** dsllm: the training sequence length and micro-batch a preset is benchmarked with */
  dsllm?: { seq_len?: number; batch?: number };
}

function llama(c: Omit<ModelConfig, 'architectures' | 'model_type' | 'hidden_act' | 'rms_norm_eps' | 'rope_theta'> &
  Partial<Pick<ModelConfig, 'rms_norm_eps' | 'rope_theta'>>): ModelConfig {
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu',
    rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: false,
    attention_bias: false, mlp_bias: false, ...c,
  };
}

/** The released DeepSeek LLM shapes (../shared/DEEPSEEK-LLM-FACTS.md §1) and the bench presets (BENCH.md). */
export const PRESETS: Record<string, ModelConfig> = {
  'deepseek-llm-7b': llama({
    vocab_size: 102400, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 30,
    num_attention_heads: 32, num_key_value_heads: 32, head_dim: 128, max_position_embeddings: 4096,
    bos_token_id: 100000, eos_token_id: 100001, initializer_range: 0.006, torch_dtype: 'bfloat16',
    dsllm: { seq_len: 4096, batch: 2304 },
  }),
  'deepseek-llm-67b': llama({
    vocab_size: 102400, hidden_size: 8192, intermediate_size: 22016, num_hidden_layers: 95,
    num_attention_heads: 64, num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 4096,
    bos_token_id: 100000, eos_token_id: 100001, initializer_range: 0.006, torch_dtype: 'bfloat16',
    dsllm: { seq_len: 4096, batch: 4608 },
  }),
  nano: llama({
    vocab_size: 4096, hidden_size: 256, intermediate_size: 768, num_hidden_layers: 4, num_attention_heads: 4,
    num_key_value_heads: 4, max_position_embeddings: 256, initializer_range: 0.006, dsllm: { seq_len: 256, batch: 16 },
  }),
  micro: llama({
    vocab_size: 8192, hidden_size: 512, intermediate_size: 1536, num_hidden_layers: 8, num_attention_heads: 8,
    num_key_value_heads: 8, max_position_embeddings: 512, initializer_range: 0.006, dsllm: { seq_len: 512, batch: 8 },
  }),
  small: llama({
    vocab_size: 32000, hidden_size: 768, intermediate_size: 2048, num_hidden_layers: 12, num_attention_heads: 12,
    num_key_value_heads: 4, max_position_embeddings: 1024, initializer_range: 0.006, dsllm: { seq_len: 1024, batch: 4 },
  }),
  '1b': llama({
    vocab_size: 32000, hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 16, num_attention_heads: 16,
    num_key_value_heads: 16, max_position_embeddings: 2048, initializer_range: 0.006, dsllm: { seq_len: 2048, batch: 1 },
  }),
};
PRESETS['deepseek-llm-7b-base'] = PRESETS['deepseek-llm-7b'];
PRESETS['deepseek-llm-67b-base'] = PRESETS['deepseek-llm-67b'];

export class ConfigError extends Error {
  constructor(where: string, msg: string) {
    super(`${where}: ${msg}`);
    this.name = 'ConfigError';
  }
}

const REQUIRED: (keyof ModelConfig)[] = [
  'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
];

/** Fills HF defaults and rejects impossible shapes with a message naming the key and the source. */
export function validateConfig(raw: Partial<ModelConfig>, where = 'config'): ModelConfig {
  for (const k of REQUIRED) {
    if (raw[k] === undefined) throw new ConfigError(where, `missing key "${k}"`);
  }
  const c: ModelConfig = {
    max_position_embeddings: 2048, rms_norm_eps: 1e-6, rope_theta: 10000,
    num_key_value_heads: raw.num_attention_heads as number, tie_word_embeddings: false, ...raw,
  } as ModelConfig;
  foldRopeParameters(c, raw, where);
  const ints: (keyof ModelConfig)[] = [...REQUIRED, 'num_key_value_heads', 'max_position_embeddings'];
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ConfigError(where, `"${k}" must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (c.num_attention_heads % c.num_key_value_heads !== 0) {
    throw new ConfigError(where, `num_key_value_heads (${c.num_key_value_heads}) must divide num_attention_heads (${c.num_attention_heads})`);
  }
  const hd = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (c.head_dim === undefined && c.hidden_size % c.num_attention_heads !== 0) {
    throw new ConfigError(where, `num_attention_heads (${c.num_attention_heads}) must divide hidden_size (${c.hidden_size})`);
  }
  if (!Number.isInteger(hd) || hd <= 0 || hd % 2 !== 0) throw new ConfigError(where, `head_dim must be a positive even integer (RoPE rotates pairs), got ${hd}`);
  if (!(c.rms_norm_eps > 0)) throw new ConfigError(where, `"rms_norm_eps" must be > 0, got ${c.rms_norm_eps}`);
  if (!(c.rope_theta > 0)) throw new ConfigError(where, `"rope_theta" must be > 0, got ${c.rope_theta}`);
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu') throw new ConfigError(where, `hidden_act "${c.hidden_act}" is not supported (DeepSeek LLM uses silu)`);
  if (c.attention_bias || c.mlp_bias) throw new ConfigError(where, 'attention/MLP biases are not part of the DeepSeek LLM architecture');
  return c;
}

/** rope_parameters (transformers ≥ 5) → rope_theta; anything but plain RoPE is refused, never ignored */
function foldRopeParameters(c: ModelConfig, raw: Partial<ModelConfig>, where: string): void {
  const rp = raw.rope_parameters as unknown;
  if (rp == null) return;
  if (typeof rp !== 'object' || Array.isArray(rp)) throw new ConfigError(where, `"rope_parameters" must be an object, got ${JSON.stringify(rp)}`);
  const { rope_type, rope_theta, ...rest } = rp as Record<string, unknown>;
  if (rope_type !== undefined && rope_type !== 'default') {
    throw new ConfigError(where, `rope_parameters.rope_type ${JSON.stringify(rope_type)} is not supported (plain RoPE only: "default")`);
  }
  if (Object.keys(rest).length) throw new ConfigError(where, `rope_parameters ${JSON.stringify(rp)}: only rope_type "default" and rope_theta are supported (plain RoPE)`);
  if (rope_theta === undefined) return;
  if (typeof rope_theta !== 'number') throw new ConfigError(where, `rope_parameters.rope_theta must be a number, got ${JSON.stringify(rope_theta)}`);
  if (raw.rope_theta !== undefined && raw.rope_theta !== rope_theta) {
    throw new ConfigError(where, `rope_theta ${raw.rope_theta} and rope_parameters.rope_theta ${rope_theta} disagree`);
  }
  c.rope_theta = rope_theta;
}

export function headDim(c: ModelConfig): number {
  return c.head_dim ?? c.hidden_size / c.num_attention_heads;
}

/** A preset name, a path to a config.json, or a model directory holding one. */
export function loadConfig(spec: string): ModelConfig {
  if (PRESETS[spec]) return validateConfig(PRESETS[spec], `preset ${spec}`);
  let path = spec;
  if (existsSync(`${spec}/config.json`)) path = `${spec}/config.json`;
  if (!existsSync(path)) {
    throw new ConfigError(spec, `not a preset (${Object.keys(PRESETS).join(', ')}) nor a config.json file or model directory`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(path, `invalid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(path, 'expected a JSON object');
  return validateConfig(raw as Partial<ModelConfig>, path);
}

export interface ParamCounts {
  total: number;
  embedding: number;
  lm_head: number;
  /** all weights except the input embedding and the head (layers + final norm) */
  non_embedding: number;
  per_layer: number;
  /** weights that take part in a matmul for each token: layers' projections + head (BENCH.md's N_matmul) */
  matmul: number;
}

export function countParams(c: ModelConfig): ParamCounts {
  const d = c.hidden_size, hd = headDim(c);
  const attn = d * c.num_attention_heads * hd * 2 + d * c.num_key_value_heads * hd * 2;
  const mlp = 3 * d * c.intermediate_size;
  const perLayer = attn + mlp + 2 * d;
  const embedding = c.vocab_size * d;
  const head = c.tie_word_embeddings ? 0 : c.vocab_size * d;
  const nonEmb = c.num_hidden_layers * perLayer + d;
  return {
    total: embedding + nonEmb + head, embedding, lm_head: head, non_embedding: nonEmb, per_layer: perLayer,
    matmul: c.num_hidden_layers * (attn + mlp) + c.vocab_size * d,
  };
}

export interface FlopsPerToken {
  /** the paper's non-embedding FLOPs/token: 72·n·d² + 12·n·d·l_seq (eq. 2) */
  M: number;
  /** 6·N1 = 72·n·d² (Kaplan) */
  '6N1': number;
  /** 6·N2 = 72·n·d² + 6·V·d (Chinchilla) */
  '6N2': number;
  /** exact training FLOPs/token of this architecture (GQA, real FFN width, head), PaLM-style: 6·N_matmul + 12·n·d·l_seq */
  train_exact: number;
  /** forward only: 2·N_matmul + 4·n·d·l_seq */
  forward_exact: number;
  seq_len: number;
}

export function flopsPerToken(c: ModelConfig, seqLen = c.dsllm?.seq_len ?? c.max_position_embeddings): FlopsPerToken {
  const n = c.num_hidden_layers, d = c.hidden_size;
  const att = n * d * seqLen;
  const nm = countParams(c).matmul;
  return {
    M: 72 * n * d * d + 12 * att,
    '6N1': 72 * n * d * d,
    '6N2': 72 * n * d * d + 6 * c.vocab_size * d,
    train_exact: 6 * nm + 12 * att,
    forward_exact: 2 * nm + 4 * att,
    seq_len: seqLen,
  };
}
