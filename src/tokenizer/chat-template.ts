// Chat prompts rendered with @huggingface/jinja, the engine transformers.js uses for the
// `chat_template` of tokenizer_config.json. DeepSeek LLM chat's template is built in
// (../shared/DEEPSEEK-LLM-FACTS.md §9): `User: …\n\n`, `Assistant: …<eos>`, generation prompt
// `Assistant:` with no trailing space.
import { Template } from '@huggingface/jinja';
import { TokenizerError } from './errors.js';

export const DEEPSEEK_BOS = '<｜begin▁of▁sentence｜>';
export const DEEPSEEK_EOS = '<｜end▁of▁sentence｜>';

/** `chat_template` of deepseek-ai/deepseek-llm-7b-chat, verbatim. */
export const DEEPSEEK_CHAT_TEMPLATE =
  "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% elif message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

export interface ChatMessage { role: string; content: string }

export interface ChatOptions {
  /** Jinja source; default DeepSeek LLM chat */
  template?: string;
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
}

const compiled = new Map<string, Template>();

/**
 * Renders messages to the prompt text (BOS included as text: encode it with special: 'all').
 * @example renderChat([{ role: 'user', content: 'Hi' }]) // '<｜begin▁of▁sentence｜>User: Hi\n\nAssistant:'
 */
export function renderChat(messages: unknown, opts: ChatOptions = {}): string {
  if (!Array.isArray(messages)) throw new TokenizerError('chat: messages must be a JSON array of {role, content}', { code: 'E_CHAT' });
  messages.forEach((m, i) => {
    if (!m || typeof m !== 'object' || typeof (m as ChatMessage).role !== 'string' || typeof (m as ChatMessage).content !== 'string') {
      throw new TokenizerError(`chat: messages[${i}] must be {role: string, content: string}`, { code: 'E_CHAT' });
    }
  });
  const src = opts.template ?? DEEPSEEK_CHAT_TEMPLATE;
  let t = compiled.get(src);
  if (!t) {
    try { t = new Template(src); } catch (e) { throw new TokenizerError(`chat template does not parse: ${(e as Error).message}`, { code: 'E_CHAT' }); }
    compiled.set(src, t);
  }
  return t.render({
    messages, add_generation_prompt: opts.addGenerationPrompt ?? true,
    bos_token: opts.bosToken ?? DEEPSEEK_BOS, eos_token: opts.eosToken ?? DEEPSEEK_EOS,
  });
}
