// The generation engine: continuous batching over CausalLM.step.
// A scheduler loop runs while there is work. Between two steps it drops cancelled requests (freeing
// their caches) and admits waiting ones (up to maxBatch sequences). Each step feeds, in one
// CausalLM.step, the last sampled token of every decoding sequence plus prompt chunks of the
// sequences still prefilling, at most `prefillChunk` prompt tokens per step in all, so a long prompt
// is spread over several steps while the others keep decoding. Every request has its own Sampler and
// Rng, so its tokens depend on its seed and its logits only, never on what it was batched with.
//
// Text: ids go through the tokenizer's StreamDecoder (special tokens skipped), which only ever
// returns whole characters. Stop strings are matched on that text: the tail that could still be the
// start of a stop string is held back until the next token settles it, and a matched stop string and
// everything after it never reach the output. Invariant: result.text is the concatenation of the
// TokenEvents' text. `ids` is every sampled token (a final stop id included, as HF generate returns
// EOS); the stop id's own text is not output.
//
// Prefix cache: the caches of the last few finished requests are kept (not those cancelled or failed).
// A new request whose prompt starts with the tokens of one of them takes it over, truncated to the
// common prefix, and prefills only the rest: a chat's next turn re-reads only the new messages.
import type { CausalLM, Engine, GenerationRequest, GenerationResult, Sequence, StepInput, TokenEvent } from './types.js';
import type { Tokenizer, StreamDecoder } from '../tokenizer/tokenizer.js';
import { Rng } from '../util/rng.js';
import { Sampler, logprobsOf, resolveSampling } from './sampler.js';
import { InferenceError } from './generate-errors.js';

export interface EngineOptions {
  /** needed for text (TokenEvent.text, result.text) and stop strings; without it text is '' */
  tokenizer?: Tokenizer;
  /** ids that end a request that gives no stopIds (default: the tokenizer's EOS, else config.eos_token_id) */
  eosIds?: number[];
  /** most sequences decoded together (default 32) */
  maxBatch?: number;
  /** most prompt tokens prefilled per step, all sequences together (default 512) */
  prefillChunk?: number;
  /** seeds requests that give none (each such request draws the next one) (default 1337) */
  seed?: number;
  /** caches of finished requests kept for reuse by a prompt that extends them (default 1; 0 = off) */
  prefixCache?: number;
}

/** a finished request's cache kept for reuse, with the tokens it holds */
interface Idle { seq: Sequence; tokens: Int32Array }

interface Active {
  req: GenerationRequest;
  prompt: Int32Array;
  onToken?: (e: TokenEvent) => void;
  resolve: (r: GenerationResult) => void;
  reject: (e: unknown) => void;
  sampler: Sampler;
  stopIds: Set<number>;
  stops: string[];
  seq: Sequence | null;
  /** prompt tokens already in the cache */
  fed: number;
  /** the token to feed next (the last one sampled) */
  next: number;
  ids: number[];
  events: TokenEvent[] | undefined;
  decoder: StreamDecoder | null;
  /** decoded text not yet released (could be the start of a stop string) */
  held: string;
  text: string;
  done: boolean;
  unlisten: () => void;
}

export class GenerationEngine implements Engine {
  readonly model: CausalLM;
  readonly tokenizer: Tokenizer | undefined;
  readonly eosIds: number[];
  private readonly maxBatch: number;
  private readonly prefillChunk: number;
  private readonly seeds: Rng;
  private pending: Active[] = [];
  private idle: Idle[] = [];
  private readonly prefixCache: number;
  private active: Active[] = [];
  private loopDone: Promise<void> | null = null;
  private closed = false;
  /** steps run so far, and prompt tokens taken from the prefix cache instead of prefilled (tests, stats) */
  steps = 0;
  reusedTokens = 0;

  constructor(model: CausalLM, opts: EngineOptions = {}) {
    this.model = model;
    this.tokenizer = opts.tokenizer;
    const eos = opts.eosIds ?? (opts.tokenizer?.spec.eos !== undefined ? [opts.tokenizer.spec.eos] : model.config.eos_token_id !== undefined ? [model.config.eos_token_id] : []);
    this.eosIds = eos;
    if (opts.tokenizer && model.vocabSize > opts.tokenizer.vocabSize) {
      throw new InferenceError(`the model samples ids up to ${model.vocabSize - 1} but the tokenizer ${opts.tokenizer.spec.name} knows only ${opts.tokenizer.vocabSize}`);
    }
    this.maxBatch = positiveInt('maxBatch', opts.maxBatch ?? 32);
    this.prefillChunk = positiveInt('prefillChunk', opts.prefillChunk ?? 512);
    this.seeds = new Rng(opts.seed ?? 1337);
    this.prefixCache = opts.prefixCache ?? 1;
    if (!Number.isInteger(this.prefixCache) || this.prefixCache < 0) throw new InferenceError(`engine: prefixCache ${opts.prefixCache} must be an integer ≥ 0`);
  }

  /** the context: prompt plus generated tokens never exceed it */
  get context(): number { return this.model.config.max_position_embeddings; }

  generate(req: GenerationRequest, onToken?: (e: TokenEvent) => void): Promise<GenerationResult> {
    let a: Active;
    try {
      a = this.prepare(req, onToken);
    } catch (e) {
      return Promise.reject(e);
    }
    const result = new Promise<GenerationResult>((resolve, reject) => { a.resolve = resolve; a.reject = reject; });
    if (req.signal?.aborted) { this.finish(a, 'cancelled'); return result; }
    if (req.maxTokens === 0) { this.finish(a, 'length'); return result; }
    if (req.signal) {
      const onAbort = () => this.cancel(a);
      req.signal.addEventListener('abort', onAbort, { once: true });
      a.unlisten = () => req.signal!.removeEventListener('abort', onAbort);
    }
    this.pending.push(a);
    this.loopDone ??= this.loop().finally(() => { this.loopDone = null; });
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const a of [...this.pending, ...this.active]) this.finish(a, 'cancelled');
    await this.loopDone;
    for (const i of this.idle.splice(0)) this.model.freeSequence(i.seq);
  }

  /** validates a request and builds its state */
  private prepare(req: GenerationRequest, onToken?: (e: TokenEvent) => void): Active {
    if (this.closed) throw new InferenceError('the engine is closed');
    const V = this.model.config.vocab_size;
    const raw: unknown = req.prompt;
    if (!(raw instanceof Int32Array) && !(Array.isArray(raw) && raw.every((x) => Number.isSafeInteger(x)))) {
      throw new InferenceError('the prompt must be token ids (an Int32Array or an array of integers)');
    }
    const prompt = raw instanceof Int32Array ? raw : Int32Array.from(raw as number[]);
    if (prompt.length === 0) throw new InferenceError('the prompt is empty: give at least one token');
    for (let i = 0; i < prompt.length; i++) {
      if (prompt[i] < 0 || prompt[i] >= V) throw new InferenceError(`prompt token ${i} is id ${prompt[i]}, outside the model's vocabulary (0..${V - 1})`);
    }
    if (prompt.length >= this.context) {
      throw new InferenceError(`the prompt has ${prompt.length} tokens; the model's context is ${this.context}, so a prompt may have at most ${this.context - 1}`);
    }
    if (!Number.isInteger(req.maxTokens) || req.maxTokens < 0) throw new InferenceError(`maxTokens ${req.maxTokens} must be an integer ≥ 0`);
    const stops = req.stop ?? [];
    if (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string' || s === '')) throw new InferenceError('stop must be a list of non-empty strings');
    if (stops.length && !this.tokenizer) throw new InferenceError('stop strings need a tokenizer (stop ids work without one)');
    const stopIds = req.stopIds ?? this.eosIds;
    if (!Array.isArray(stopIds) || stopIds.some((i) => !Number.isInteger(i))) throw new InferenceError('stopIds must be a list of integer ids');
    if (req.logprobs !== undefined && !(Number.isInteger(req.logprobs) && req.logprobs >= 0)) throw new InferenceError(`logprobs ${req.logprobs} must be an integer ≥ 0`);
    const sampling = resolveSampling(req.sampling);
    const seed = sampling.seed ?? this.seeds.nextU32();
    return {
      req, prompt, onToken, resolve: () => {}, reject: () => {},
      sampler: new Sampler(sampling, this.model.vocabSize, prompt, seed),
      stopIds: new Set(stopIds), stops, seq: null, fed: 0, next: -1, ids: [],
      events: req.logprobs ? [] : undefined,
      decoder: this.tokenizer ? this.tokenizer.streamDecoder({ skipSpecial: true }) : null,
      held: '', text: '', done: false, unlisten: () => {},
    };
  }

  private async loop(): Promise<void> {
    while (this.pending.length || this.active.length) {
      this.admit();
      if (this.active.length) this.step();
      // let new requests, aborts and I/O in between two steps
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  private admit(): void {
    while (this.pending.length && this.active.length < this.maxBatch) {
      const a = this.pending.shift()!;
      try {
        const reused = this.takeIdle(a.prompt);
        if (reused) { a.seq = reused; a.fed = reused.length; this.reusedTokens += a.fed; }
        // with a prefix cache, room for the whole context: a later prompt may extend this one
        else a.seq = this.model.newSequence(this.prefixCache ? this.context : Math.min(this.context, a.prompt.length + a.req.maxTokens));
      } catch (e) {
        this.fail(a, e);
        continue;
      }
      this.active.push(a);
    }
  }

  /** the idle cache sharing the longest prefix with prompt, truncated to it (≥ 1 prompt token left to feed) */
  private takeIdle(prompt: Int32Array): Sequence | null {
    let best = -1, bestLen = 0;
    this.idle.forEach((it, k) => {
      const n = Math.min(it.tokens.length, prompt.length - 1);
      let l = 0;
      while (l < n && it.tokens[l] === prompt[l]) l++;
      if (l > bestLen) { best = k; bestLen = l; }
    });
    if (best < 0) return null;
    const [it] = this.idle.splice(best, 1);
    this.model.truncate(it.seq, bestLen);
    return it.seq;
  }

  private step(): void {
    const inputs: StepInput[] = [], who: { a: Active; n: number; sample: boolean }[] = [];
    for (const a of this.active) {
      if (a.fed < a.prompt.length) continue;
      inputs.push({ seq: a.seq!, tokens: Int32Array.of(a.next) });
      who.push({ a, n: 0, sample: true });
    }
    let budget = this.prefillChunk;
    for (const a of this.active) {
      if (a.fed >= a.prompt.length || budget <= 0) continue;
      const n = Math.min(budget, a.prompt.length - a.fed);
      inputs.push({ seq: a.seq!, tokens: a.prompt.subarray(a.fed, a.fed + n) });
      who.push({ a, n, sample: a.fed + n === a.prompt.length });
      budget -= n;
    }
    let logits: Float32Array;
    try {
      logits = this.model.step(inputs);
      this.steps++;
    } catch (e) {
      for (const w of who) this.fail(w.a, e);
      return;
    }
    const V = this.model.config.vocab_size;
    who.forEach((w, i) => {
      w.a.fed += w.n;
      if (!w.sample || w.a.done) return;
      try {
        this.onLogits(w.a, logits.subarray(i * V, (i + 1) * V));
      } catch (e) {
        this.fail(w.a, e); // a bug or a bad row hurts its own request only
      }
    });
  }

  /** samples one token for `a` and turns it into output */
  private onLogits(a: Active, row: Float32Array): void {
    const id = a.sampler.sample(row);
    a.sampler.accept(id);
    a.ids.push(id);
    const ev: TokenEvent = { id, text: '' };
    if (a.req.logprobs) {
      const lp = logprobsOf(row, this.model.vocabSize, id, a.req.logprobs);
      ev.logprob = lp.logprob;
      ev.top = lp.top.map((t) => ({ id: t.id, text: this.tokenText(t.id), logprob: t.logprob }));
    }
    let reason: 'stop' | 'length' | null = null;
    if (a.stopIds.has(id)) {
      ev.text = this.release(a, a.held.length) + this.flush(a);
      reason = 'stop';
    } else {
      if (a.decoder) a.held += a.decoder.push(id);
      const at = firstStop(a.held, a.stops);
      if (at >= 0) {
        a.held = a.held.slice(0, at);
        ev.text = this.release(a, at);
        reason = 'stop';
      } else if (a.ids.length >= a.req.maxTokens || a.prompt.length + a.ids.length >= this.context) {
        ev.text = this.release(a, a.held.length) + this.flush(a);
        reason = 'length';
      } else {
        ev.text = this.release(a, a.held.length - heldBack(a.held, a.stops));
        a.next = id;
      }
    }
    a.events?.push(ev);
    try {
      a.onToken?.(ev);
    } catch (e) {
      this.fail(a, e);
      return;
    }
    if (reason) this.finish(a, reason);
  }

  /** moves the first n characters of the held text to the output */
  private release(a: Active, n: number): string {
    const out = a.held.slice(0, n);
    a.held = a.held.slice(n);
    a.text += out;
    return out;
  }

  /** an unfinished character at the end becomes U+FFFD (the request is over) */
  private flush(a: Active): string {
    const tail = a.decoder?.flush() ?? '';
    a.text += tail;
    return tail;
  }

  private tokenText(id: number): string {
    return this.tokenizer ? this.tokenizer.decode([id]) : '';
  }

  private cancel(a: Active): void {
    this.finish(a, 'cancelled');
  }

  /** takes a out of the queues; its cache goes to the prefix cache (keep) or is freed */
  private detach(a: Active, keep = false): boolean {
    if (a.done) return false;
    a.done = true;
    a.unlisten();
    this.pending = this.pending.filter((x) => x !== a);
    this.active = this.active.filter((x) => x !== a);
    const seq = a.seq;
    a.seq = null;
    if (seq && keep && this.prefixCache > 0 && !this.closed) {
      // the cache holds the prompt and every sampled token but the last (never fed)
      const tokens = new Int32Array(seq.length);
      tokens.set(a.prompt.subarray(0, Math.min(seq.length, a.prompt.length)));
      if (seq.length > a.prompt.length) tokens.set(a.ids.slice(0, seq.length - a.prompt.length), a.prompt.length);
      this.idle.push({ seq, tokens });
      while (this.idle.length > this.prefixCache) this.free(this.idle.shift()!.seq);
    } else if (seq) this.free(seq);
    return true;
  }

  private free(seq: Sequence): void {
    try { this.model.freeSequence(seq); } catch { /* already gone with a failed step */ }
  }

  private finish(a: Active, finishReason: GenerationResult['finishReason']): void {
    if (!this.detach(a, finishReason !== 'cancelled')) return;
    const r: GenerationResult = {
      ids: a.ids, text: a.text, finishReason, promptTokens: a.prompt.length, completionTokens: a.ids.length,
    };
    if (a.events) r.tokens = a.events;
    a.resolve(r);
  }

  private fail(a: Active, e: unknown): void {
    if (this.detach(a)) a.reject(e);
  }
}

/** index of the earliest stop string in text, or -1 */
export function firstStop(text: string, stops: string[]): number {
  let at = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/** length of the longest tail of text that is the start of some stop string (it may still complete) */
export function heldBack(text: string, stops: string[]): number {
  let keep = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > keep; k--) {
      if (text.endsWith(s.slice(0, k))) { keep = k; break; }
    }
  }
  return keep;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new InferenceError(`engine: ${name} ${v} must be an integer ≥ 1`);
  return v;
}

/** An engine over a model (see EngineOptions). */
export function createEngine(model: CausalLM, opts: EngineOptions = {}): GenerationEngine {
  return new GenerationEngine(model, opts);
}
