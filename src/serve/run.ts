// Runs the choices of one HTTP request on the shared engine: each choice (n > 1, or several prompts)
// is its own engine request, so the engine decodes them together with everyone else's. The HTTP
// request's AbortSignal (client disconnect) cancels all of them; a failing choice cancels its siblings.
import { randomInt } from 'node:crypto';
import type { GenerationRequest, GenerationResult, SamplingOptions } from '../infer/types.js';
import { ApiError, badRequest } from './errors.js';
import { StopHoldback, type Released } from './holdback.js';
import type { ServeContext } from './context.js';

export interface ChoiceSink {
  /** streamed text (and its tokens) of choice `index`; stop strings never reach it */
  delta(index: number, r: Released): void;
  /** the last text of choice `index`, then its result */
  end(index: number, r: Released, result: GenerationResult): void;
}

/** Fields shared by both endpoints, as zod parsed them. */
export interface SamplingFields {
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  min_p?: number | null;
  repetition_penalty?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
}

/**
 * Engine requests for `n` choices of one prompt; fields left out take the model's defaults
 * (generation_config.json, `dsllm serve`'s sampling flags), then OpenAI's (temperature 1). With a seed
 * (the request's, else the server's), choice i uses seed + i: reproducible, yet the choices differ;
 * without one, each choice draws a random seed, as OpenAI's API behaves.
 */
export function choiceRequests(ctx: ServeContext, f: SamplingFields, prompt: Int32Array, maxTokens: number, n: number, logprobs: number): GenerationRequest[] {
  // an empty stop string would match everywhere; OpenAI ignores it, and so does this server
  const stop = (f.stop == null ? [] : typeof f.stop === 'string' ? [f.stop] : f.stop).filter((x) => x !== '');
  const out: GenerationRequest[] = [];
  for (let i = 0; i < n; i++) {
    const d = ctx.samplingDefaults;
    const seed = f.seed ?? d.seed;
    const sampling: SamplingOptions = {
      ...d,
      temperature: f.temperature ?? d.temperature ?? 1,
      seed: seed !== undefined ? seed + i : randomInt(2 ** 31),
    };
    if (f.top_p != null) sampling.topP = f.top_p;
    if (f.top_k != null) sampling.topK = f.top_k > 0 ? f.top_k : undefined;
    if (f.min_p != null) sampling.minP = f.min_p;
    if (f.repetition_penalty != null) sampling.repetitionPenalty = f.repetition_penalty;
    if (f.presence_penalty != null) sampling.presencePenalty = f.presence_penalty;
    if (f.frequency_penalty != null) sampling.frequencyPenalty = f.frequency_penalty;
    for (const k of Object.keys(sampling) as (keyof SamplingOptions)[]) if (sampling[k] === undefined) delete sampling[k];
    const req: GenerationRequest = { prompt, maxTokens, sampling, stopIds: ctx.stopIds };
    if (stop.length > 0) req.stop = stop;
    if (logprobs > 0) req.logprobs = logprobs;
    out.push(req);
  }
  return out;
}

const BUILTIN_ERRORS = new Set(['Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

/** The engine's own error classes (bad request for this model) become 400s; anything else is a 500. */
function engineError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof Error && !BUILTIN_ERRORS.has(e.name)) return badRequest(e.message, null, 'engine_rejected');
  return new ApiError(500, `generation failed: ${e instanceof Error ? e.message : String(e)}`, { type: 'server_error' });
}

export async function runChoices(ctx: ServeContext, requests: GenerationRequest[], signal: AbortSignal, sink?: ChoiceSink): Promise<GenerationResult[]> {
  const own = new AbortController();
  const cancel = () => own.abort();
  if (signal.aborted) own.abort();
  else signal.addEventListener('abort', cancel, { once: true });
  try {
    return await Promise.all(requests.map(async (req, index) => {
      const hold = new StopHoldback(req.stop ?? []);
      const onToken = sink ? (e: Parameters<StopHoldback['push']>[0]) => {
        const r = hold.push(e);
        if (r.text !== '' || r.tokens.length > 0) sink.delta(index, r);
      } : undefined;
      ctx.active++;
      let result: GenerationResult;
      try {
        result = await ctx.engine.generate({ ...req, signal: own.signal }, onToken);
      } catch (e) {
        own.abort();
        throw engineError(e);
      } finally {
        ctx.active--;
        ctx.served++;
      }
      if (result.finishReason === 'cancelled' && !signal.aborted) {
        own.abort();
        throw new ApiError(503, 'the request was cancelled: the server is shutting down', { type: 'server_error', code: 'cancelled' });
      }
      sink?.end(index, hold.finish(result.text, result.tokens), result);
      return result;
    }));
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}
