// POST /v1/completions: text (or token-id) prompts, one engine request per prompt × n. Choices are
// numbered prompt-major (prompt i, choice j → index i·n + j), as OpenAI numbers them.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { GenerationRequest, GenerationResult } from '../infer/types.js';
import type { ServeContext } from './context.js';
import { completionLogprobs } from './logprobs.js';
import { completionBudget, completionPrompts } from './prompt.js';
import { choiceRequests, runChoices } from './run.js';
import { CompletionRequest, parseRequest } from './schema.js';
import { SseWriter } from './sse.js';
import { sendJson } from './respond.js';
import { checkModel, finishReason, usageOf } from './common.js';

export async function handleCompletions(ctx: ServeContext, body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const r = parseRequest(CompletionRequest, body);
  checkModel(ctx, r.model);
  const prompts = completionPrompts(ctx, r.prompt);
  const n = r.n ?? 1;
  const top = r.logprobs ?? -1;
  // logprobs: 0 still reports the chosen token's logprob; the engine is asked for at least that one
  const engineLogprobs = top >= 0 ? Math.max(1, top) : 0;
  const requests: GenerationRequest[] = [];
  for (const p of prompts) {
    const maxTokens = completionBudget(ctx, p.length, r.max_tokens, 16, 'prompt');
    requests.push(...choiceRequests(ctx, r, p, maxTokens, n, engineLogprobs));
  }
  const promptTokens = prompts.reduce((s, p) => s + p.length, 0);
  const id = `cmpl-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);
  const head = { id, object: 'text_completion', created, model: ctx.modelId };

  if (!r.stream) {
    const results = await runChoices(ctx, requests, signal);
    sendJson(res, 200, {
      ...head,
      choices: results.map((x, index) => ({
        index, text: x.text,
        logprobs: top >= 0 ? completionLogprobs(ctx.tokenizer, x.tokens ?? [], top, 0) : null,
        finish_reason: finishReason(x),
      })),
      usage: usageOf(promptTokens, results),
    });
    return;
  }

  const sse = new SseWriter(res);
  const includeUsage = r.stream_options?.include_usage === true;
  const offsets = new Array<number>(requests.length).fill(0);
  const chunk = (index: number, text: string, events: NonNullable<GenerationResult['tokens']>, finish: string | null) => {
    const logprobs = top >= 0 ? completionLogprobs(ctx.tokenizer, events, top, offsets[index]) : null;
    offsets[index] += text.length;
    sse.send({ ...head, choices: [{ index, text, logprobs, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) });
  };
  const results = await runChoices(ctx, requests, signal, {
    delta: (index, d) => chunk(index, d.text, d.tokens, null),
    end: (index, d, result) => chunk(index, d.text, d.tokens, finishReason(result)),
  });
  if (includeUsage) sse.send({ ...head, choices: [], usage: usageOf(promptTokens, results) });
  sse.done();
}
