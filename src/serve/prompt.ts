// Prompts to token ids: /v1/completions takes text or ids (one prompt or a batch of them);
// /v1/chat/completions renders its messages with the model's chat template, then encodes the result
// with special tokens recognised (the template writes BOS/EOS as text).
import { renderChat } from '../tokenizer/chat-template.js';
import { ApiError, badRequest } from './errors.js';
import type { ServeContext } from './context.js';
import type { ChatRequest, CompletionRequest } from './schema.js';

export function completionPrompts(ctx: ServeContext, prompt: CompletionRequest['prompt']): Int32Array[] {
  const tok = ctx.tokenizer;
  const encode = (text: string) => Int32Array.from(tok.encode(text, { addBos: ctx.addBos }));
  let prompts: Int32Array[];
  if (typeof prompt === 'string') prompts = [encode(prompt)];
  else if (prompt.every((p) => typeof p === 'string')) prompts = (prompt as string[]).map(encode);
  else if (prompt.every((p) => typeof p === 'number')) prompts = [Int32Array.from(prompt as number[])];
  else prompts = (prompt as number[][]).map((p) => Int32Array.from(p));
  prompts.forEach((ids, i) => {
    const param = prompts.length > 1 ? `prompt[${i}]` : 'prompt';
    if (ids.length === 0) throw badRequest(`${param} is empty: it encodes to no tokens`, param, 'empty_prompt');
    for (const id of ids) {
      if (id >= ctx.engine.model.vocabSize) throw badRequest(`${param} holds token id ${id}, but the model's vocabulary has ${ctx.engine.model.vocabSize} tokens`, param, 'invalid_token_id');
    }
  });
  return prompts;
}

/** the rendered prompt's ids, and its text (to see how the template leaves off) */
export function chatPrompt(ctx: ServeContext, messages: ChatRequest['messages']): { ids: Int32Array; text: string } {
  const plain = messages.map((m) => ({
    // DeepSeek's and most templates know 'system' only; OpenAI's newer 'developer' means the same
    role: m.role === 'developer' ? 'system' : m.role,
    content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
  }));
  let text: string;
  try {
    text = renderChat(plain, { template: ctx.chatTemplate, bosToken: ctx.bosToken, eosToken: ctx.eosToken, addGenerationPrompt: true });
  } catch (e) {
    // a template may raise_exception() on a conversation it does not accept (e.g. roles out of order)
    throw badRequest(`the model's chat template rejected these messages: ${(e as Error).message}`, 'messages', 'chat_template_error');
  }
  const ids = Int32Array.from(ctx.tokenizer.encode(text, { special: 'all' }));
  if (ids.length === 0) throw badRequest('messages render to an empty prompt', 'messages', 'empty_prompt');
  return { ids, text };
}

/** max_tokens checked against the context (prompt + completion ≤ context), or the room left by default */
export function completionBudget(ctx: ServeContext, promptLen: number, asked: number | null | undefined, fallback: number | null, what: 'messages' | 'prompt'): number {
  const room = ctx.contextLength - promptLen;
  const want = asked ?? (fallback === null ? room : Math.min(fallback, Math.max(room, 1)));
  if (promptLen + want > ctx.contextLength || room < 1) {
    throw new ApiError(400, `This model's maximum context length is ${ctx.contextLength} tokens. However, you requested ${promptLen + want} tokens (${promptLen} in the ${what}, ${want} in the completion). Please reduce the length of the ${what} or completion.`,
      { param: what, code: 'context_length_exceeded' });
  }
  return want;
}
