// POST /v1/chat/completions: messages rendered with the model's chat template, n choices each its own
// engine request. Streams as OpenAI does: a first chunk with the role, content deltas, a last chunk
// per choice with finish_reason, then (stream_options.include_usage) one chunk with usage only.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { TokenEvent } from '../infer/types.js';
import type { ServeContext } from './context.js';
import { badRequest } from './errors.js';
import { chatLogprobs } from './logprobs.js';
import { chatPrompt, completionBudget } from './prompt.js';
import { choiceRequests, runChoices } from './run.js';
import { ChatRequest, parseRequest } from './schema.js';
import { SseWriter } from './sse.js';
import { sendJson } from './respond.js';
import { checkModel, finishReason, usageOf } from './common.js';

export async function handleChat(ctx: ServeContext, body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const r = parseRequest(ChatRequest, body);
  checkModel(ctx, r.model);
  if (r.top_logprobs != null && r.logprobs !== true) throw badRequest('top_logprobs needs logprobs: true', 'top_logprobs', 'invalid_value');
  const { ids: prompt, text: promptText } = chatPrompt(ctx, r.messages);
  // DeepSeek's template ends with "Assistant:" and renders past answers as "Assistant: " + content, so
  // the model's answer starts with that separating space; it is not part of the content (dsllm chat
  // drops it too). Templates that end in whitespace (ChatML's "\n") leave answers as they are.
  const dropSpace = /\S$/.test(promptText);
  const started = new Array<boolean>(r.n ?? 1).fill(!dropSpace);
  const lead = (index: number, text: string) => {
    if (started[index] || text === '') return text;
    started[index] = true;
    return text.startsWith(' ') ? text.slice(1) : text;
  };
  const maxTokens = completionBudget(ctx, prompt.length, r.max_completion_tokens ?? r.max_tokens, null, 'messages');
  const n = r.n ?? 1;
  const top = r.logprobs ? r.top_logprobs ?? 0 : -1;
  const requests = choiceRequests(ctx, r, prompt, maxTokens, n, top >= 0 ? Math.max(1, top) : 0);
  const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);
  const lp = (events: TokenEvent[]) => (top >= 0 ? chatLogprobs(ctx.tokenizer, events, top) : null);

  if (!r.stream) {
    const results = await runChoices(ctx, requests, signal);
    sendJson(res, 200, {
      id, object: 'chat.completion', created, model: ctx.modelId,
      choices: results.map((x, index) => ({
        index,
        message: { role: 'assistant', content: lead(index, x.text), refusal: null },
        logprobs: lp(x.tokens ?? []),
        finish_reason: finishReason(x),
      })),
      usage: usageOf(prompt.length, results),
    });
    return;
  }

  const sse = new SseWriter(res);
  const head = { id, object: 'chat.completion.chunk', created, model: ctx.modelId };
  const usageField = r.stream_options?.include_usage === true ? { usage: null } : {};
  const chunk = (index: number, delta: object, logprobs: object | null, finish: string | null) =>
    sse.send({ ...head, choices: [{ index, delta, logprobs, finish_reason: finish }], ...usageField });
  for (let i = 0; i < n; i++) chunk(i, { role: 'assistant', content: '' }, null, null);
  const results = await runChoices(ctx, requests, signal, {
    delta: (index, d) => chunk(index, { content: lead(index, d.text) }, lp(d.tokens), null),
    end: (index, d, result) => {
      if (d.text !== '' || d.tokens.length > 0) chunk(index, { content: lead(index, d.text) }, lp(d.tokens), null);
      chunk(index, {}, null, finishReason(result));
    },
  });
  if (r.stream_options?.include_usage === true) sse.send({ ...head, choices: [], usage: usageOf(prompt.length, results) });
  sse.done();
}
