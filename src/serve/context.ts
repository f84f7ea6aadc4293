// What every handler needs: the shared engine (all requests go to it; it batches them), the
// tokenizer that turns prompts into ids, and the model's name, context and chat template.
import type { Engine, SamplingOptions } from '../infer/types.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

export interface ServeOptions {
  engine: Engine;
  tokenizer: Tokenizer;
  /** the name /v1/models lists and requests must ask for (default: "dsllm") */
  modelId?: string;
  /** Jinja chat template (tokenizer_config.json's chat_template); default: DeepSeek LLM chat */
  chatTemplate?: string;
  /** `bos_token` / `eos_token` the template sees; default: the tokenizer's BOS/EOS text */
  bosToken?: string;
  eosToken?: string;
  /** prepend BOS to /v1/completions text prompts; default: the tokenizer's own setting */
  addBos?: boolean;
  /** ids that end generation; default: the model's eos_token_id and the tokenizer's EOS */
  stopIds?: number[];
  /** prompt + completion limit in tokens; default: the model's max_position_embeddings */
  contextLength?: number;
  /** sampling for fields a request leaves out (generation_config.json's); default: OpenAI's (temperature 1) */
  samplingDefaults?: SamplingOptions;
  /** when set, /v1/* requires `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  /** largest request body accepted, in bytes (default 4 MiB) */
  maxBodyBytes?: number;
  /** one line per request (method, path, status, milliseconds); default: none */
  log?: (line: string) => void;
}

export interface ServeContext {
  engine: Engine;
  tokenizer: Tokenizer;
  modelId: string;
  chatTemplate?: string;
  bosToken?: string;
  eosToken?: string;
  addBos: boolean;
  stopIds: number[];
  contextLength: number;
  samplingDefaults: SamplingOptions;
  /** unix seconds, for /v1/models' `created` */
  created: number;
  /** generation requests running now (each choice counts once) */
  active: number;
  /** generation requests finished since start */
  served: number;
}

export function makeContext(o: ServeOptions): ServeContext {
  const tok = o.tokenizer;
  const cfg = o.engine.model.config;
  const textOf = (id: number | undefined) => (id === undefined ? undefined : tok.decode([id]));
  const stopIds = new Set<number>();
  // HF config.json allows a list of EOS ids (Llama 3 style); ModelConfig types it as one number
  const eos = cfg.eos_token_id as number | number[] | undefined;
  for (const id of Array.isArray(eos) ? eos : eos === undefined ? [] : [eos]) stopIds.add(id);
  if (tok.spec.eos !== undefined) stopIds.add(tok.spec.eos);
  return {
    engine: o.engine,
    tokenizer: tok,
    modelId: o.modelId ?? 'dsllm',
    chatTemplate: o.chatTemplate,
    // a tokenizer without BOS/EOS renders them as nothing (not as DeepSeek's, the template's default)
    bosToken: o.bosToken ?? textOf(tok.spec.bos) ?? '',
    eosToken: o.eosToken ?? textOf(tok.spec.eos) ?? '',
    addBos: o.addBos ?? (tok.spec.addBos === true && tok.spec.bos !== undefined),
    stopIds: o.stopIds ?? [...stopIds].filter((id) => id >= 0 && id < o.engine.model.vocabSize),
    contextLength: o.contextLength ?? cfg.max_position_embeddings,
    samplingDefaults: o.samplingDefaults ?? {},
    created: Math.floor(Date.now() / 1000),
    active: 0,
    served: 0,
  };
}
