// A Tokenizer as GGUF `tokenizer.ggml.*` keys, the way llama.cpp's convert_hf_to_gguf.py writes a
// byte-level BPE vocabulary: model "gpt2", the pre-tokenizer by name (llama.cpp refuses names it
// does not know), tokens as byte-level text, token types, merges as "left right" in rank order.
import { GgufError } from './gguf.js';
import { kv, type KvEntry } from './gguf-write.js';
import { Tokenizer, type TokenizerSpec } from '../tokenizer/tokenizer.js';
import { bytesToByteLevel } from '../tokenizer/byte-level.js';
import { DEEPSEEK_LLM_HF, ggufPreset, ggufPresetNames } from '../tokenizer/presets.js';
import { DEEPSEEK_CHAT_TEMPLATE, DEEPSEEK_BOS, DEEPSEEK_EOS } from '../tokenizer/chat-template.js';

/** llama.cpp's token types */
export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** The `tokenizer.ggml.pre` names llama.cpp (the pinned version) accepts for byte-level BPE. */
export const LLAMA_CPP_PRE_NAMES = [
  'default', 'llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'deepseek-llm', 'deepseek-coder', 'deepseek-v3',
  'falcon', 'mpt', 'starcoder', 'gpt-2', 'phi-2', 'refact', 'command-r', 'qwen2', 'stablelm2', 'olmo', 'dbrx',
  'smaug-bpe', 'poro-chat', 'jais', 'smollm', 'codeshell', 'exaone', 'deepseek-r1-qwen',
];

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The llama.cpp pre-tokenizer name whose splitting equals this tokenizer's, or null. */
export function detectPre(spec: TokenizerSpec): string | null {
  const mine = canonical(spec.preTokenizer);
  if (mine === canonical(DEEPSEEK_LLM_HF)) return 'deepseek-llm';
  for (const name of ggufPresetNames()) {
    const p = ggufPreset(name);
    if (p && canonical(p.preTokenizer) === mine) return p.name;
  }
  return null;
}

/**
 * A byte-level tokenizer for models trained without one (dsllm's default data path: ids 0–255 are the
 * bytes, 256 is EOS): no merges, so every byte is its own token in llama.cpp too.
 */
export function byteTokenizer(vocabSize = 257): Tokenizer {
  const spec: TokenizerSpec = {
    name: 'byte-level', tokens: Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)), mode: 'merges', merges: [],
    preTokenizer: ggufPreset('gpt-2')!.preTokenizer, dollar: 'text-end', normalizer: null,
    addedTokens: [{ id: 256, content: '<|endoftext|>', special: true }], eos: 256, addBos: false, vocabSize,
  };
  return new Tokenizer(spec);
}

export interface TokenizerKvOptions {
  /** tokenizer.ggml.pre; default: detected from the pre-tokenizer */
  pre?: string;
  /** tokenizer.chat_template; default DeepSeek LLM chat's for a DeepSeek vocabulary */
  chatTemplate?: string;
}

/** The tokenizer keys for a model with `vocabSize` embedding rows (ids past the tokenizer are padding). */
export function tokenizerKv(tok: Tokenizer, vocabSize: number, opts: TokenizerKvOptions = {}): KvEntry[] {
  const spec = tok.spec;
  const where = `tokenizer ${spec.name}`;
  if (spec.mode !== 'merges' || !spec.merges) {
    throw new GgufError(`${where}: a tiktoken rank vocabulary has no merge list; GGUF export needs a merges tokenizer (tokenizer.json, GGUF or one trained by dsllm)`, { code: 'E_GGUF_TOKENIZER' });
  }
  if (spec.normalizer) throw new GgufError(`${where}: has a normalizer, which llama.cpp's byte-level BPE does not run`, { code: 'E_GGUF_TOKENIZER' });
  if (tok.vocabSize > vocabSize) {
    throw new GgufError(`${where}: ${tok.vocabSize} ids, but the model has only ${vocabSize} embedding rows`, { code: 'E_GGUF_TOKENIZER', hint: 'give the tokenizer the model was trained with' });
  }
  const pre = opts.pre ?? detectPre(spec);
  if (!pre) {
    throw new GgufError(`${where}: its pre-tokenizer matches none llama.cpp knows`, { code: 'E_GGUF_PRE', hint: `pass --pre with one of: ${LLAMA_CPP_PRE_NAMES.join(', ')}` });
  }
  if (!LLAMA_CPP_PRE_NAMES.includes(pre)) {
    throw new GgufError(`${where}: pre-tokenizer ${JSON.stringify(pre)} is not one llama.cpp accepts`, { code: 'E_GGUF_PRE', hint: `one of: ${LLAMA_CPP_PRE_NAMES.join(', ')}` });
  }
  const texts: string[] = new Array(vocabSize);
  const types: number[] = new Array(vocabSize);
  const added = new Map(spec.addedTokens.map((t) => [t.id, t]));
  for (let id = 0; id < vocabSize; id++) {
    const a = added.get(id), b = id < spec.tokens.length ? spec.tokens[id] : null;
    if (a) {
      texts[id] = a.content;
      types[id] = a.special ? TOKEN_TYPE.CONTROL : TOKEN_TYPE.USER_DEFINED;
      // a user-defined token that is one byte (DeepSeek's 100002–100014) is written as that byte
      if (!a.special && b && b.length === 1) texts[id] = bytesToByteLevel(b);
    } else if (b) {
      texts[id] = bytesToByteLevel(b);
      types[id] = TOKEN_TYPE.NORMAL;
    } else {
      texts[id] = `[PAD${id}]`;
      types[id] = TOKEN_TYPE.UNUSED;
    }
  }
  const merges = spec.merges.map(([l, r], i) => {
    const bl = spec.tokens[l], br = spec.tokens[r];
    if (!bl || !br) throw new GgufError(`${where}: merge ${i} joins ids ${l} and ${r}, which are not byte tokens`, { code: 'E_GGUF_TOKENIZER' });
    return `${bytesToByteLevel(bl)} ${bytesToByteLevel(br)}`;
  });
  const out: KvEntry[] = [
    kv.str('tokenizer.ggml.model', 'gpt2'),
    kv.str('tokenizer.ggml.pre', pre),
    kv.strs('tokenizer.ggml.tokens', texts),
    kv.i32s('tokenizer.ggml.token_type', types),
    kv.strs('tokenizer.ggml.merges', merges),
  ];
  if (spec.bos !== undefined) out.push(kv.u32('tokenizer.ggml.bos_token_id', spec.bos));
  if (spec.eos !== undefined) out.push(kv.u32('tokenizer.ggml.eos_token_id', spec.eos));
  if (spec.eos !== undefined && pre === 'deepseek-llm') out.push(kv.u32('tokenizer.ggml.padding_token_id', spec.eos));
  out.push(kv.bool('tokenizer.ggml.add_bos_token', spec.addBos === true));
  out.push(kv.bool('tokenizer.ggml.add_eos_token', false));
  const isDeepSeek = spec.bos !== undefined && added.get(spec.bos)?.content === DEEPSEEK_BOS && spec.eos !== undefined && added.get(spec.eos)?.content === DEEPSEEK_EOS;
  const template = opts.chatTemplate ?? (isDeepSeek ? DEEPSEEK_CHAT_TEMPLATE : undefined);
  if (template) out.push(kv.str('tokenizer.chat_template', template));
  return out;
}
