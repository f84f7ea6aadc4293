// Request bodies of /v1/completions and /v1/chat/completions, validated with zod. Top-level objects
// are strict (an unknown field is a 400 naming it, as OpenAI does, rather than silently ignored), and
// every optional field also accepts null, since OpenAI's API and clients treat null as "not given".
// Messages are not strict: clients send back assistant messages with `refusal`, `annotations`, ….
import { z } from 'zod';
import { badRequest, type ApiError } from './errors.js';

const opt = <T extends z.ZodType>(t: T) => t.nullish();

const tokenIds = z.array(z.number().int().min(0)).min(1);

const sampling = {
  model: z.string().min(1),
  max_tokens: opt(z.number().int().min(1)),
  temperature: opt(z.number().min(0).max(2)),
  top_p: opt(z.number().gt(0).max(1)),
  /** extensions that vLLM and llama.cpp's server also accept */
  top_k: opt(z.number().int().min(-1)),
  min_p: opt(z.number().min(0).max(1)),
  repetition_penalty: opt(z.number().gt(0)),
  seed: opt(z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)),
  n: opt(z.number().int().min(1).max(16)),
  stop: opt(z.union([z.string(), z.array(z.string()).max(4)], { error: 'stop must be a string or an array of at most 4 strings' })),
  presence_penalty: opt(z.number().min(-2).max(2)),
  frequency_penalty: opt(z.number().min(-2).max(2)),
  stream: opt(z.boolean()),
  stream_options: opt(z.strictObject({ include_usage: opt(z.boolean()) })),
  user: opt(z.string()),
};

export const CompletionRequest = z.strictObject({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).min(1), tokenIds, z.array(tokenIds).min(1)], {
    error: 'prompt must be a string, an array of strings, an array of token ids, or an array of arrays of token ids',
  }),
  logprobs: opt(z.number().int().min(0).max(20)),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

const textPart = z.object({ type: z.literal('text'), text: z.string() });

const Message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant'], { error: "role must be one of 'system', 'developer', 'user', 'assistant'" }),
  content: z.union([z.string(), z.array(textPart)], { error: 'content must be a string or an array of {type: "text", text} parts' }),
  name: opt(z.string()),
});

export const ChatRequest = z.strictObject({
  ...sampling,
  messages: z.array(Message).min(1),
  max_completion_tokens: opt(z.number().int().min(1)),
  logprobs: opt(z.boolean()),
  top_logprobs: opt(z.number().int().min(0).max(20)),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

/** `messages[0].content` from a zod path */
function paramOf(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : (s ? '.' : '') + String(p);
  return s;
}

/** Parses a JSON body with `schema`, or throws the first problem as an OpenAI-style 400. */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw issueToError(r.error.issues[0], body);
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v = body;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

function issueToError(issue: z.core.$ZodIssue, body: unknown): ApiError {
  if (issue.code === 'unrecognized_keys') {
    const where = paramOf(issue.path);
    const key = where ? `${where}.${issue.keys[0]}` : issue.keys[0];
    return badRequest(`Unrecognized request argument supplied: ${issue.keys.join(', ')}`, key, 'unknown_parameter');
  }
  const param = paramOf(issue.path);
  if (!param) return badRequest(`request body: ${issue.message}`, null);
  if (valueAt(body, issue.path) === undefined) return badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  return badRequest(`Invalid value for '${param}': ${issue.message}`, param, issue.code === 'invalid_type' ? 'invalid_type' : 'invalid_value');
}
