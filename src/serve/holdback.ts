// Streaming with stop strings. A stop string can arrive split over several tokens, and it must never
// reach the client, so text that could be the start of a stop string is held back until the next
// tokens settle it. Token events (for logprobs) are released together with their text. At the end,
// the engine's final text is the truth: whatever it holds beyond what was sent goes out last. This
// works whether or not the engine itself withholds stop-string text from its token events.
import type { TokenEvent } from '../infer/types.js';

export interface Released {
  text: string;
  tokens: TokenEvent[];
}

export class StopHoldback {
  private readonly stops: string[];
  /** text received but not yet sent */
  private pending = '';
  /** everything sent so far */
  private sent = '';
  private stopped = false;
  /** events whose text is not fully sent yet, with how many of their characters are unsent */
  private queue: { e: TokenEvent; left: number }[] = [];
  private releasedTokens = 0;

  constructor(stops: string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  push(e: TokenEvent): Released {
    if (this.stopped) return { text: '', tokens: [] };
    this.queue.push({ e, left: e.text.length });
    this.pending += e.text;
    let cut = -1;
    for (const s of this.stops) {
      const i = this.pending.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      return this.release(cut, true);
    }
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.pending.length); k > hold; k--) {
        if (this.pending.endsWith(s.slice(0, k))) { hold = k; break; }
      }
    }
    return this.release(this.pending.length - hold, false);
  }

  /** the rest, given the engine's final text and (when logprobs were asked) its final token list */
  finish(finalText: string, finalTokens?: TokenEvent[]): Released {
    const text = finalText.startsWith(this.sent) ? finalText.slice(this.sent.length) : '';
    const tokens = finalTokens ? finalTokens.slice(this.releasedTokens) : this.stopped ? [] : this.queue.map((q) => q.e);
    this.sent += text;
    this.pending = '';
    this.queue = [];
    this.stopped = true;
    return { text, tokens };
  }

  /** sends pending[0, n); events whose text ends within it go along */
  private release(n: number, dropRest: boolean): Released {
    const text = this.pending.slice(0, n);
    const tokens: TokenEvent[] = [];
    let budget = n;
    while (this.queue.length > 0 && this.queue[0].left <= budget) {
      budget -= this.queue[0].left;
      tokens.push(this.queue.shift()!.e);
    }
    if (dropRest) this.queue = [];
    // the event that straddles the cut has its head sent; it goes out with its tail
    else if (this.queue.length > 0) this.queue[0].left -= budget;
    this.pending = dropRest ? '' : this.pending.slice(n);
    this.sent += text;
    this.releasedTokens += tokens.length;
    return { text, tokens };
  }
}
