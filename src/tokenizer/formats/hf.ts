// HF `tokenizer.json`: read a byte-level BPE tokenizer (model BPE, merges, pre_tokenizer,
// normalizer, decoder, added_tokens, post_processor) into a TokenizerSpec, and write one back.
// Unknown or unsupported components are refused with their JSON path named.
import { readFileSync } from 'node:fs';
import { TokenizerError } from '../errors.js';
import { ByteArena, byteLevelToBytes, bytesToByteLevel, utf8 } from '../byte-level.js';
import { compilePreTokenizer, type PreTokenizerJson } from '../pretokenize.js';
import { compileNormalizer, type NormalizerJson } from '../normalize.js';
import type { AddedToken } from '../added-tokens.js';
import type { Tokenizer, TokenizerSpec } from '../tokenizer.js';

type Json = Record<string, unknown>;

const KNOWN_DECODERS = new Set(['ByteLevel']);
const KNOWN_POST = new Set(['TemplateProcessing', 'ByteLevel', 'Sequence', 'RobertaProcessing', 'BertProcessing']);

/** Parses tokenizer.json text. `file` names it in errors. */
export function hfJsonToSpec(text: string, file: string): TokenizerSpec {
  let j: Json;
  try { j = JSON.parse(text); } catch (e) {
    throw new TokenizerError(`${file}: not valid JSON: ${(e as Error).message}`, { code: 'E_HF_JSON' });
  }
  const bad = (path: string, what: string): never => {
    throw new TokenizerError(`${file}: ${path}: ${what}`, { code: 'E_HF_COMPONENT', hint: 'dsllm reads byte-level BPE tokenizers (GPT-2, LLaMA-3, DeepSeek, Qwen style)' });
  };
  if (!j || typeof j !== 'object' || Array.isArray(j)) bad('(root)', 'expected a JSON object');
  const model = j.model as Json | undefined;
  if (!model || typeof model !== 'object') bad('model', 'missing');
  if ((model!.type ?? 'BPE') !== 'BPE') bad('model.type', `unknown or unsupported model ${JSON.stringify(model!.type)} (only BPE)`);
  for (const k of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model![k]) bad(`model.${k}`, `${JSON.stringify(model![k])} is not supported with byte-level BPE`);
  }
  if (model!.dropout) bad('model.dropout', 'BPE dropout is not supported (encoding would not be deterministic)');
  const vocab = model!.vocab as Record<string, number> | undefined;
  if (!vocab || typeof vocab !== 'object') bad('model.vocab', 'missing or not an object');

  // components: validate each by compiling it, so errors carry the JSON path
  const preTokenizer = (j.pre_tokenizer ?? null) as PreTokenizerJson | null;
  let byteLevel = false;
  try { byteLevel = compilePreTokenizer(preTokenizer, `${file}: pre_tokenizer`).byteLevel; } catch (e) { throw e; }
  const normalizer = (j.normalizer ?? null) as NormalizerJson | null;
  compileNormalizer(normalizer, `${file}: normalizer`);
  const decoder = j.decoder as Json | null | undefined;
  if (decoder) {
    const types = decoder.type === 'Sequence' ? ((decoder.decoders as Json[]) ?? []).map((d) => d.type) : [decoder.type];
    types.forEach((t, i) => {
      if (!KNOWN_DECODERS.has(t as string)) bad(decoder.type === 'Sequence' ? `decoder.decoders[${i}].type` : 'decoder.type', `unknown or unsupported decoder ${JSON.stringify(t)} (supported: ByteLevel)`);
    });
    if (types.includes('ByteLevel')) byteLevel = true;
  }
  if (!byteLevel) bad('pre_tokenizer', 'no ByteLevel pre-tokenizer or decoder: the vocabulary is not byte-level');

  const entries = Object.entries(vocab!);
  let maxId = -1;
  for (const [tok, id] of entries) {
    if (!Number.isInteger(id) || id < 0) bad(`model.vocab[${JSON.stringify(tok)}]`, `id ${JSON.stringify(id)} is not a non-negative integer`);
    maxId = Math.max(maxId, id);
  }
  const tokens: (Uint8Array | null)[] = new Array(maxId + 1).fill(null);
  const idOf = new Map<string, number>();
  const arena = new ByteArena();
  for (const [tok, id] of entries) {
    if (tokens[id]) bad(`model.vocab[${JSON.stringify(tok)}]`, `id ${id} is used twice`);
    tokens[id] = byteLevelToBytes(tok, arena) ?? utf8(tok);
    idOf.set(tok, id);
  }
  const rawMerges = (model!.merges ?? []) as (string | [string, string])[];
  if (!Array.isArray(rawMerges)) bad('model.merges', 'not an array');
  const merges: [number, number][] = rawMerges.map((m, r) => {
    let a: string | undefined, b: string | undefined;
    if (typeof m === 'string') { const sp = m.indexOf(' ', 1); if (sp > 0) { a = m.slice(0, sp); b = m.slice(sp + 1); } }
    else if (Array.isArray(m) && m.length === 2) [a, b] = m;
    const ia = a === undefined ? undefined : idOf.get(a), ib = b === undefined ? undefined : idOf.get(b);
    if (ia === undefined || ib === undefined) bad(`model.merges[${r}]`, `${JSON.stringify(m)} does not name two tokens of model.vocab`);
    return [ia!, ib!];
  });

  const added = (j.added_tokens ?? []) as Json[];
  if (!Array.isArray(added)) bad('added_tokens', 'not an array');
  const addedTokens: AddedToken[] = added.map((t, i) => {
    if (typeof t.content !== 'string' || !Number.isInteger(t.id)) bad(`added_tokens[${i}]`, 'needs "id" (integer) and "content" (string)');
    return { id: t.id as number, content: t.content as string, special: !!t.special, lstrip: !!t.lstrip, rstrip: !!t.rstrip, single_word: !!t.single_word, normalized: !!t.normalized };
  });
  // added tokens that are also in the model vocab decode as their text, not as byte-level symbols
  for (const t of addedTokens) if (t.id < tokens.length && idOf.get(t.content) === t.id && byteLevelToBytes(t.content) === null) tokens[t.id] = null;

  // BOS from the post-processor (TemplateProcessing's "single" starting with a special token)
  let bos: number | undefined, addBos = false;
  const post = j.post_processor as Json | null | undefined;
  const checkPost = (p: Json, path: string) => {
    if (!KNOWN_POST.has(p.type as string)) bad(`${path}.type`, `unknown post-processor ${JSON.stringify(p.type)}`);
    if (p.type === 'Sequence') ((p.processors as Json[]) ?? []).forEach((q, i) => checkPost(q, `${path}.processors[${i}]`));
    if (p.type === 'TemplateProcessing') {
      const first = (p.single as Json[] | undefined)?.[0] as { SpecialToken?: { id: string } } | undefined;
      const sp = first?.SpecialToken;
      if (sp) {
        const st = (p.special_tokens as Record<string, { ids: number[] }> | undefined)?.[sp.id];
        bos = st?.ids?.[0] ?? addedTokens.find((t) => t.content === sp.id)?.id;
        addBos = bos !== undefined;
      }
    }
  };
  if (post) checkPost(post, 'post_processor');
  const eos = addedTokens.find((t) => /end[▁_]of[▁_]sentence|endoftext|<\/s>|eos/i.test(t.content) && t.special)?.id;
  let vocabSize = tokens.length;
  for (const t of addedTokens) vocabSize = Math.max(vocabSize, t.id + 1);
  return {
    name: file, tokens, mode: 'merges', merges, ignoreMerges: !!model!.ignore_merges,
    preTokenizer, dollar: 'line-end', normalizer, addedTokens,
    bos: bos ?? addedTokens.find((t) => /begin[▁_]of[▁_]sentence|<s>|bos/i.test(t.content) && t.special)?.id,
    eos, addBos, vocabSize,
  };
}

export function loadHfSpec(path: string): TokenizerSpec {
  return hfJsonToSpec(readFileSync(path, 'utf8'), path);
}

/**
 * The tokenizer.json of a tokenizer: byte-level vocab, merges in rank order (for a tiktoken
 * vocabulary, the derived one-merge-per-token list), added tokens, and a post-processor that adds
 * BOS when the tokenizer does so by default.
 */
export function toHfJson(tok: Tokenizer): Json {
  const spec = tok.spec;
  const vocab: Record<string, number> = Object.create(null);
  const textOf: string[] = [];
  spec.tokens.forEach((b, id) => {
    if (!b) return;
    const s = bytesToByteLevel(b);
    if (!(s in vocab)) { vocab[s] = id; textOf[id] = s; }
  });
  const merges = tok.bpe.mergeList().map(([a, b]) => [textOf[a], textOf[b]]);
  const added = spec.addedTokens.map((t) => ({
    id: t.id, content: t.content, single_word: !!t.single_word, lstrip: !!t.lstrip, rstrip: !!t.rstrip, normalized: !!t.normalized, special: t.special,
  }));
  const bosTok = spec.bos !== undefined ? spec.addedTokens.find((t) => t.id === spec.bos) : undefined;
  const post = spec.addBos && bosTok
    ? {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bosTok.content, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bosTok.content, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bosTok.content, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bosTok.content]: { id: bosTok.content, ids: [bosTok.id], tokens: [bosTok.content] } },
    }
    : null;
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: spec.normalizer ?? null, post_processor: post,
    // HF needs the ByteLevel stage to map bytes to the vocabulary's characters
    pre_tokenizer: tok.pre.byteLevel ? spec.preTokenizer : {
      type: 'Sequence',
      pretokenizers: [...(spec.preTokenizer ? [spec.preTokenizer] : []), { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: !!spec.ignoreMerges, vocab, merges,
    },
  };
}
