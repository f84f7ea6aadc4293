// A small deterministic Engine for testing the server without a model: a byte-level tokenizer (one
// token per UTF-8 byte, BOS 256, EOS 257) and a "model" whose answer is scripted by the prompt.
//  - a prompt holding `say:TEXT` answers TEXT (up to the end of that line), then EOS;
//  - otherwise it repeats FOX forever (so max_tokens ends it);
//  - with temperature > 0 the answer starts with `[seed] ` (same seed ⇒ same answer).
// One token per `delayMs`, stop strings and stop ids honoured, abort → 'cancelled'. Token events carry
// the raw text, stop-string characters included, which is the hardest case for the server's holdback.
import { PRESETS, type ModelConfig } from '../../src/nn/config.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import type { CausalLM, Engine, GenerationRequest, GenerationResult, TokenEvent } from '../../src/infer/types.js';

export const BOS = 256;
export const EOS = 257;
export const FOX = 'The quick brown fox — café 😀 jumps over the lazy dog. ';

export function byteTokenizer(): Tokenizer {
  return new Tokenizer({
    name: 'test:bytes',
    tokens: Array.from({ length: 256 }, (_, i) => Uint8Array.of(i)),
    mode: 'merges', merges: [], preTokenizer: null, dollar: 'text-end',
    addedTokens: [
      { id: BOS, content: '<｜begin▁of▁sentence｜>', special: true },
      { id: EOS, content: '<｜end▁of▁sentence｜>', special: true },
    ],
    bos: BOS, eos: EOS, addBos: true, vocabSize: 258,
  });
}

function fakeModel(context: number): CausalLM {
  const config: ModelConfig = { ...PRESETS.nano, vocab_size: 320, max_position_embeddings: context, bos_token_id: BOS, eos_token_id: EOS };
  const no = () => { throw new Error('the fake engine has no real model'); };
  return { config, vocabSize: 258, newSequence: no, truncate: no, freeSequence: no, step: no, dispose: () => {} };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakeEngine implements Engine {
  readonly model: CausalLM;
  readonly tokenizer = byteTokenizer();
  delayMs: number;
  active = 0;
  maxActive = 0;
  cancelled = 0;
  completed = 0;
  readonly requests: GenerationRequest[] = [];
  private closed = false;
  /** called once per generated token (tests use it to act mid-generation) */
  onStep?: (req: GenerationRequest, produced: number) => void;

  /** replaces the script: the answer to a prompt (its text, special tokens skipped); then EOS */
  private readonly reply?: (prompt: string) => string;

  constructor(opts: { delayMs?: number; context?: number; reply?: (prompt: string) => string } = {}) {
    this.delayMs = opts.delayMs ?? 1;
    this.reply = opts.reply;
    this.model = fakeModel(opts.context ?? 256);
  }

  async generate(req: GenerationRequest, onToken?: (e: TokenEvent) => void): Promise<GenerationResult> {
    if (this.closed) throw new Error('engine closed');
    this.requests.push(req);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      return await this.run(req, onToken);
    } finally {
      this.active--;
    }
  }

  private script(req: GenerationRequest): { bytes: Uint8Array; repeat: boolean } {
    const prompt = this.tokenizer.decode(req.prompt, { skipSpecial: true });
    if (this.reply) return { bytes: new TextEncoder().encode(this.reply(prompt)), repeat: false };
    const m = /say:([^\n]*)/.exec(prompt.slice(prompt.lastIndexOf('say:')));
    const t = req.sampling?.temperature ?? 1;
    const prefix = t > 0 ? `[${req.sampling?.seed}] ` : '';
    const enc = new TextEncoder();
    return m ? { bytes: enc.encode(prefix + m[1]), repeat: false } : { bytes: enc.encode(prefix + FOX.repeat(64)), repeat: true };
  }

  private async run(req: GenerationRequest, onToken?: (e: TokenEvent) => void): Promise<GenerationResult> {
    const { bytes } = this.script(req);
    const dec = this.tokenizer.streamDecoder();
    const stopIds = req.stopIds ?? [EOS];
    const ids: number[] = [];
    const events: TokenEvent[] = [];
    let text = '';
    let finish: GenerationResult['finishReason'] = 'length';
    for (let i = 0; i < req.maxTokens; i++) {
      await sleep(this.delayMs);
      if (req.signal?.aborted) { finish = 'cancelled'; this.cancelled++; break; }
      const id = i < bytes.length ? bytes[i] : EOS;
      if (stopIds.includes(id)) { finish = 'stop'; break; }
      ids.push(id);
      const piece = dec.push(id);
      const e: TokenEvent = { id, text: piece };
      if (req.logprobs) {
        e.logprob = -0.25 - (i % 3) * 0.5;
        e.top = Array.from({ length: req.logprobs }, (_, k) => {
          const alt = k === 0 ? id : (id + k) % 256;
          return { id: alt, text: this.tokenizer.decode([alt]), logprob: k === 0 ? e.logprob! : e.logprob! - k };
        });
      }
      events.push(e);
      text += piece;
      onToken?.(e);
      this.onStep?.(req, i + 1);
      const hit = (req.stop ?? []).map((s) => text.indexOf(s)).filter((x) => x >= 0);
      if (hit.length > 0) { text = text.slice(0, Math.min(...hit)); finish = 'stop'; break; }
    }
    if (finish !== 'cancelled') this.completed++;
    const result: GenerationResult = { ids, text, finishReason: finish, promptTokens: req.prompt.length, completionTokens: ids.length };
    if (req.logprobs) result.tokens = events;
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
