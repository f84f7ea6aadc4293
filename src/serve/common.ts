// Pieces both generation endpoints share: the model check, usage, finish reasons.
import type { GenerationResult } from '../infer/types.js';
import { ApiError } from './errors.js';
import type { ServeContext } from './context.js';

export function checkModel(ctx: ServeContext, model: string): void {
  if (model !== ctx.modelId) {
    throw new ApiError(404, `The model '${model}' does not exist. This server serves '${ctx.modelId}' (see GET /v1/models).`, { param: 'model', code: 'model_not_found' });
  }
}

/** prompt tokens once per prompt (not per choice), completion tokens over all choices */
export function usageOf(promptTokens: number, results: GenerationResult[]) {
  const completion = results.reduce((s, x) => s + x.completionTokens, 0);
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}

/** 'cancelled' never reaches a client (it only happens once the client is gone) */
export function finishReason(r: GenerationResult): 'stop' | 'length' {
  return r.finishReason === 'length' ? 'length' : 'stop';
}
