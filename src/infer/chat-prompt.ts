// A conversation → prompt ids, as transformers' apply_chat_template(tokenize=True) does it: render the
// chat template (the model's tokenizer_config.json one, else DeepSeek LLM chat's), then encode with
// special tokens written in the text turned into their ids (the template writes BOS/EOS as text).
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { renderChat, type ChatMessage } from '../tokenizer/chat-template.js';
import type { ChatFormat } from './load-causal-lm.js';

export type { ChatMessage };

export function chatPromptIds(tokenizer: Tokenizer, chat: ChatFormat, messages: ChatMessage[]): Int32Array {
  const text = renderChat(messages, { template: chat.template, bosToken: chat.bosToken, eosToken: chat.eosToken, addGenerationPrompt: true });
  return Int32Array.from(tokenizer.encode(text, { special: 'all' }));
}
