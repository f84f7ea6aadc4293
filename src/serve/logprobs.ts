// Token logprobs in the two shapes OpenAI uses: chat's `{content: [{token, logprob, bytes,
// top_logprobs}]}` and the legacy completions' parallel arrays `{tokens, token_logprobs,
// top_logprobs, text_offset}`. Token strings come from the tokenizer (a token that ends mid-character
// shows U+FFFD; `bytes` holds its exact bytes).
import type { TokenEvent } from '../infer/types.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

export interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

const piece = (tok: Tokenizer, id: number) => ({ token: tok.decode([id]), bytes: Array.from(tok.tokenBytes(id)) });

export function chatLogprobs(tok: Tokenizer, events: TokenEvent[], top: number): { content: ChatTokenLogprob[] } {
  return {
    content: events.map((e) => ({
      ...piece(tok, e.id),
      logprob: e.logprob ?? 0,
      top_logprobs: (e.top ?? []).slice(0, top).map((t) => ({ ...piece(tok, t.id), logprob: t.logprob })),
    })),
  };
}

/** `offset`: where the first event's text starts in the choice's text */
export function completionLogprobs(tok: Tokenizer, events: TokenEvent[], top: number, offset: number): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const e of events) {
    const text = tok.decode([e.id]);
    out.tokens.push(text);
    out.token_logprobs.push(e.logprob ?? 0);
    const alts: Record<string, number> = {};
    for (const t of (e.top ?? []).slice(0, top)) {
      const k = tok.decode([t.id]);
      if (!(k in alts)) alts[k] = t.logprob;
    }
    out.top_logprobs.push(alts);
    out.text_offset.push(offset);
    offset += text.length;
  }
  return out;
}
