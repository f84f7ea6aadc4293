// Builds an inference model's weights from any WeightSource, one tensor at a time: checks the
// architecture, every name and shape against the config (errors name the source, the tensor and the
// shape expected), ties the head to the embedding as HF does, and converts each matrix to the
// requested storage format as it arrives (so a bf16 checkpoint never exists in f32 in full).
import { kernels } from '../core/runtime.js';
import type { WeightFormat } from '../core/backend.js';
import { headDim, validateConfig, ConfigError, type ModelConfig } from '../nn/config.js';
import { ModelLoadError, SUPPORTED_ARCHITECTURES, SUPPORTED_MODEL_TYPES } from './errors.js';
import { WeightMatrix } from './weight-matrix.js';
import { weightByteSize, type RawWeight, type WeightSource } from './weight-source.js';

export interface LoadOptions {
  /** storage of every matrix (embedding and head included): 'keep' (default) keeps each tensor's own
   *  format; 'f32' / 'bf16' / 'f16' / 'q8_0' / 'q4_0' convert (block formats only where a row is a whole
   *  number of 32-element blocks; other matrices stay as they are) */
  weights?: WeightFormat | 'keep';
}

export interface LayerWeights {
  attnNorm: Float32Array;
  /** q_proj, k_proj, v_proj stacked: [(H + 2·Hkv)·D, d] */
  qkv: WeightMatrix;
  o: WeightMatrix;
  mlpNorm: Float32Array;
  /** gate_proj, up_proj stacked: [2·F, d] */
  gateUp: WeightMatrix;
  down: WeightMatrix;
}

export interface ModelWeights {
  config: ModelConfig;
  embed: WeightMatrix;
  layers: LayerWeights[];
  norm: Float32Array;
  /** the same object as embed when tied */
  head: WeightMatrix;
}

/** rejects configurations InferenceModel would run wrongly, with the list of what it runs */
export function checkArchitecture(raw: Partial<ModelConfig> & Record<string, unknown>, where: string): ModelConfig {
  const archs = raw.architectures;
  const supported = `supported: ${SUPPORTED_ARCHITECTURES.join(', ')} (model_type ${SUPPORTED_MODEL_TYPES.join(', ')}: DeepSeek LLM 7B/67B base and chat, LLaMA-family checkpoints)`;
  if (Array.isArray(archs) && archs.length && !archs.some((a) => SUPPORTED_ARCHITECTURES.includes(a))) {
    throw new ModelLoadError(where, `architecture ${archs.join(', ')} is not supported; ${supported}`);
  }
  if (raw.model_type !== undefined && !SUPPORTED_MODEL_TYPES.includes(raw.model_type as string)) {
    throw new ModelLoadError(where, `model_type "${raw.model_type}" is not supported; ${supported}`);
  }
  if (raw.rope_scaling != null) throw new ModelLoadError(where, `rope_scaling ${JSON.stringify(raw.rope_scaling)} is not supported (plain RoPE only); ${supported}`);
  try {
    return validateConfig(raw, where);
  } catch (e) {
    if (e instanceof ConfigError) throw new ModelLoadError(where, e.message.startsWith(where) ? e.message.slice(where.length + 2) : e.message);
    throw e;
  }
}

function toF32(w: RawWeight): Float32Array {
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (w.dtype === 'f32' && w.bytes.byteOffset % 4 === 0) return new Float32Array(w.bytes.buffer, w.bytes.byteOffset, n);
  const out = new Float32Array(n);
  kernels().dequantize(out, w.dtype === 'f32' ? w.bytes.slice() : w.bytes, w.dtype, n);
  return out;
}

export function loadWeights(src: WeightSource, opts: LoadOptions = {}): ModelWeights {
  const c = checkArchitecture(src.config as ModelConfig & Record<string, unknown>, src.origin);
  const target = opts.weights ?? 'keep';
  const names = new Set(src.names());
  const d = c.hidden_size, hd = headDim(c), V = c.vocab_size, F = c.intermediate_size;

  const fetch = (name: string, shape: number[]): RawWeight => {
    if (!names.has(name)) throw new ModelLoadError(src.origin, `missing weight "${name}" (shape [${shape}])`);
    const w = src.get(name);
    if (w.shape.join() !== shape.join()) {
      throw new ModelLoadError(src.origin, `"${name}" has shape [${w.shape}], the config (hidden_size ${d}, heads ${c.num_attention_heads}/${c.num_key_value_heads}, head_dim ${hd}, intermediate_size ${F}, vocab_size ${V}) needs [${shape}]`);
    }
    const rows = shape.length === 2 ? shape[0] : 1, cols = shape[shape.length - 1];
    let need: number;
    try { need = weightByteSize(w.dtype, rows, cols); } catch (e) { throw new ModelLoadError(src.origin, `"${name}": ${(e as Error).message}`); }
    if (w.bytes.byteLength !== need) throw new ModelLoadError(src.origin, `"${name}" holds ${w.bytes.byteLength} bytes, ${w.dtype} [${shape}] needs ${need}`);
    return w;
  };
  const vector = (name: string): Float32Array => toF32(fetch(name, [d]));
  const matrix = (name: string, rows: number, cols: number): WeightMatrix => {
    const w = fetch(name, [rows, cols]);
    const m = new WeightMatrix(w.dtype, rows, cols, w.bytes);
    if (target === 'keep' || !WeightMatrix.canStore(target, cols)) return m;
    return m.convert(target);
  };

  const embed = matrix('model.embed_tokens.weight', V, d);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    layers.push({
      attnNorm: vector(`${p}.input_layernorm.weight`),
      qkv: WeightMatrix.concatRows([
        matrix(`${p}.self_attn.q_proj.weight`, c.num_attention_heads * hd, d),
        matrix(`${p}.self_attn.k_proj.weight`, c.num_key_value_heads * hd, d),
        matrix(`${p}.self_attn.v_proj.weight`, c.num_key_value_heads * hd, d),
      ]),
      o: matrix(`${p}.self_attn.o_proj.weight`, d, c.num_attention_heads * hd),
      mlpNorm: vector(`${p}.post_attention_layernorm.weight`),
      gateUp: WeightMatrix.concatRows([matrix(`${p}.mlp.gate_proj.weight`, F, d), matrix(`${p}.mlp.up_proj.weight`, F, d)]),
      down: matrix(`${p}.mlp.down_proj.weight`, d, F),
    });
  }
  const norm = vector('model.norm.weight');
  // as transformers: tie_word_embeddings makes the head the embedding (a stored lm_head is ignored)
  let head: WeightMatrix;
  if (c.tie_word_embeddings) head = embed;
  else if (names.has('lm_head.weight')) head = matrix('lm_head.weight', V, d);
  else throw new ModelLoadError(src.origin, `missing weight "lm_head.weight" (shape [${V},${d}]) and tie_word_embeddings is false`);
  return { config: c, embed, layers, norm, head };
}
