// One entry point from a path to a runnable model: `loadCausalLM(path)` returns the CausalLM plus what
// generation needs around it (tokenizer, stop ids, chat template, sampling defaults). HF model
// directories and GGUF files run on InferenceModel (KV caches, weights kept or converted: bf16, q8_0,
// q4_0, …); the full-recompute RecomputeLM (the test oracle) on request.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../io/hf-dir.js';
import { InferenceModel } from './model.js';
import { GgufWeightSource, loadGgufModel } from '../io/gguf-weights.js';
import { ggufGet } from '../io/gguf.js';
import type { WeightFormat } from '../core/backend.js';
import { loadTokenizer } from '../tokenizer/formats/load.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { CausalLM, SamplingOptions } from './types.js';
import { RecomputeLM } from './recompute.js';
import { InferenceError } from './generate-errors.js';

export interface LoadCausalLMOptions {
  /** a tokenizer file (tokenizer.json, .gguf vocabulary, tiktoken); default <dir>/tokenizer.json if present */
  tokenizer?: string;
  /** storage of the weight matrices: 'keep' (default: as stored), or converted to f32/bf16/f16/q8_0/q4_0 */
  weights?: WeightFormat | 'keep';
  /** 'cached' (default): InferenceModel with KV caches; 'recompute': RecomputeLM, slow but obviously correct */
  runner?: 'cached' | 'recompute';
}

export interface ChatFormat {
  /** Jinja chat template (tokenizer_config.json's chat_template); undefined: DeepSeek LLM chat's */
  template?: string;
  bosToken?: string;
  eosToken?: string;
}

export interface LoadedModel {
  path: string;
  model: CausalLM;
  tokenizer?: Tokenizer;
  /** ids that end generation: generation_config.json's eos_token_id, else the tokenizer's EOS, else config's */
  eosIds: number[];
  chat: ChatFormat;
  /** generation_config.json's defaults (do_sample: false ⇒ greedy) */
  sampling: SamplingOptions;
}

type Json = Record<string, unknown>;

function readJson(path: string): Json | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    return v && typeof v === 'object' ? v as Json : undefined;
  } catch (e) {
    throw new InferenceError(`${path}: invalid JSON: ${(e as Error).message}`);
  }
}

const ids = (v: unknown): number[] | undefined =>
  typeof v === 'number' ? [v] : Array.isArray(v) && v.every((x) => Number.isInteger(x)) ? v as number[] : undefined;

/** a token's text in tokenizer_config.json: "…" or {"content": "…"} */
const tokenText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as Json).content === 'string' ? (v as Json).content as string : undefined;

/** config.json's vocab_size, read before any weight so a mismatched tokenizer fails fast */
function readConfigVocab(dir: string): number {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new InferenceError(`${dir}: no config.json: not a Hugging Face model directory`);
  const v = readJson(cfgPath)?.vocab_size;
  if (!Number.isInteger(v) || (v as number) < 1) throw new InferenceError(`${cfgPath}: "vocab_size" must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

/**
 * ids below this are real tokens (ordinary or added); the rest of the embedding is padding. GGUF
 * files fill padded rows with "[PAD<id>]" tokens (llama.cpp's convert_hf_to_gguf): those are padding.
 */
export function realVocabSize(tok: Tokenizer): number {
  let n = 0;
  tok.spec.tokens.forEach((t, i) => { if (t) n = i + 1; });
  for (const t of tok.spec.addedTokens) if (!/^\[PAD\d+\]$/.test(t.content)) n = Math.max(n, t.id + 1);
  return n;
}

function checkVocab(tokenizer: Tokenizer | undefined, tokPath: string | undefined, V: number): number {
  if (!tokenizer) return V;
  const n = realVocabSize(tokenizer);
  if (n > V) throw new InferenceError(`${tokPath}: the tokenizer has ids up to ${n - 1} but the model's vocab_size is ${V}: they do not belong together`);
  return n;
}

function checkRunner(opts: LoadCausalLMOptions): void {
  if (opts.runner === 'recompute' && opts.weights && opts.weights !== 'keep' && opts.weights !== 'f32') {
    throw new InferenceError(`the recompute runner keeps f32 weights; --weights ${opts.weights} needs the cached runner`);
  }
}

const isGguf = (path: string): boolean => {
  const fd = openSync(path, 'r');
  try { const b = Buffer.alloc(4); return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === 'GGUF'; } finally { closeSync(fd); }
};

/** a GGUF model file: weights, and the vocabulary and chat template stored beside them */
function loadGguf(path: string, opts: LoadCausalLMOptions): LoadedModel {
  const src = new GgufWeightSource(path);
  let tokenizer: Tokenizer | undefined;
  if (opts.tokenizer) tokenizer = loadTokenizer(opts.tokenizer);
  else {
    try { tokenizer = loadTokenizer(path); } catch { tokenizer = undefined; /* weights without a vocabulary: ids only */ }
  }
  const vocabSize = checkVocab(tokenizer, opts.tokenizer ?? path, src.config.vocab_size);
  checkRunner(opts);
  const model: CausalLM = opts.runner === 'recompute'
    ? new RecomputeLM(loadGgufModel(path), { vocabSize })
    : InferenceModel.fromSource(src, { vocabSize, weights: opts.weights ?? 'keep' });
  const template = ggufGet<string>(src.file, 'tokenizer.chat_template', 'string', true);
  const eosIds = tokenizer?.spec.eos !== undefined ? [tokenizer.spec.eos] : ids(model.config.eos_token_id) ?? [];
  return { path, model, tokenizer, eosIds, chat: chatFormat(tokenizer, template, {}), sampling: {} };
}

function chatFormat(tokenizer: Tokenizer | undefined, template: unknown, tcfg: Json): ChatFormat {
  if (Array.isArray(template)) template = (template.find((t) => (t as Json)?.name === 'default') as Json | undefined)?.template;
  const special = (id: number | undefined) => id === undefined ? undefined : tokenizer?.spec.addedTokens.find((t) => t.id === id)?.content;
  return {
    template: typeof template === 'string' ? template : undefined,
    // a tokenizer without a BOS/EOS token renders them as nothing (not as DeepSeek's)
    bosToken: tokenText(tcfg.bos_token) ?? special(tokenizer?.spec.bos) ?? '',
    eosToken: tokenText(tcfg.eos_token) ?? special(tokenizer?.spec.eos) ?? '',
  };
}

/**
 * Loads a model for generation: an HF model directory or a GGUF file.
 * @example const { model, tokenizer } = loadCausalLM('deepseek-llm-7b-chat'); createEngine(model, { tokenizer })
 */
export function loadCausalLM(path: string, opts: LoadCausalLMOptions = {}): LoadedModel {
  if (!existsSync(path)) throw new InferenceError(`${path}: no such model directory or file`);
  if (!statSync(path).isDirectory()) {
    if (isGguf(path)) return loadGguf(path, opts);
    throw new InferenceError(`${path}: not a model directory (config.json + safetensors) or a GGUF file`);
  }
  const tokPath = opts.tokenizer ?? (existsSync(join(path, 'tokenizer.json')) ? join(path, 'tokenizer.json') : undefined);
  const tokenizer = tokPath ? loadTokenizer(tokPath) : undefined;
  const vocabSize = checkVocab(tokenizer, tokPath, readConfigVocab(path));
  checkRunner(opts);
  const model: CausalLM = opts.runner === 'recompute'
    ? new RecomputeLM(loadModel(path), { vocabSize })
    : InferenceModel.fromHFDir(path, { vocabSize, weights: opts.weights ?? 'keep' });
  const gen = readJson(join(path, 'generation_config.json')) ?? {};
  const tcfg = readJson(join(path, 'tokenizer_config.json')) ?? {};
  const eosIds = ids(gen.eos_token_id) ?? (tokenizer?.spec.eos !== undefined ? [tokenizer.spec.eos] : ids(model.config.eos_token_id) ?? []);
  const sampling: SamplingOptions = {};
  if (gen.do_sample === false) sampling.temperature = 0;
  else {
    if (typeof gen.temperature === 'number') sampling.temperature = gen.temperature;
    if (typeof gen.top_p === 'number') sampling.topP = gen.top_p;
    if (typeof gen.top_k === 'number' && gen.top_k > 0) sampling.topK = gen.top_k;
  }
  if (typeof gen.repetition_penalty === 'number') sampling.repetitionPenalty = gen.repetition_penalty;
  return { path, model, tokenizer, eosIds, chat: chatFormat(tokenizer, tcfg.chat_template, tcfg), sampling };
}
