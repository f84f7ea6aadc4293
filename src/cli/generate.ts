// `dsllm generate`: one completion of a prompt (text or ids), streamed to stdout as it is decoded.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { selectBackend } from '../backends/select.js';
import { loadCausalLM } from '../infer/load-causal-lm.js';
import { createEngine } from '../infer/engine.js';
import type { GenerationResult, TokenEvent } from '../infer/types.js';
import { UserError } from './errors.js';
import { parseIds } from './tokenizer.js';
import { addModelOptions, addSamplingOptions, intFlag, loadOptionsFromFlags, samplingFromFlags, type ModelFlags, type SamplingFlags } from './infer-flags.js';

interface GenerateFlags extends SamplingFlags, ModelFlags {
  prompt?: string;
  promptIds?: string;
  maxTokens: string;
  stop: string[];
  logprobs?: string;
  printIds?: boolean;
  ignoreEos?: boolean;
  json?: boolean;
  stats?: boolean;
}

const collectStop = (v: string, prev: string[]) => [...prev, v];

function jsonResult(r: GenerationResult): string {
  const out: Record<string, unknown> = {
    text: r.text, ids: r.ids, finish_reason: r.finishReason, prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens,
  };
  if (r.tokens) out.tokens = r.tokens;
  return JSON.stringify(out) + '\n';
}

export function registerGenerate(program: Command): void {
  const cmd = program.command('generate')
    .description('continue a prompt with a model, streaming the text (or ids) to stdout');
  addModelOptions(cmd);
  cmd
    .option('--prompt <text>', 'prompt text ("-" reads stdin); needs a tokenizer')
    .option('--prompt-ids <ids>', 'prompt token ids, space/comma-separated or a JSON array')
    .option('--max-tokens <n>', 'most tokens to generate', '128')
    .option('--stop <s>', 'stop string, not included in the output (repeatable)', collectStop, [] as string[])
    .option('--logprobs <n>', 'with --json: each token\'s logprob and the n most likely alternatives')
    .option('--ignore-eos', 'do not stop at the end-of-sequence token')
    .option('--print-ids', 'print the generated ids only, space-separated')
    .option('--json', 'print one JSON object: text, ids, finish_reason, token counts (and tokens with --logprobs)')
    .option('--stats', 'print token counts and speed to stderr');
  addSamplingOptions(cmd);
  cmd.action(async (o: GenerateFlags) => {
    if ((o.prompt === undefined) === (o.promptIds === undefined)) throw new UserError('give exactly one of --prompt and --prompt-ids');
    const maxTokens = intFlag('--max-tokens', o.maxTokens);
    const logprobs = o.logprobs === undefined ? undefined : intFlag('--logprobs', o.logprobs);
    await selectBackend();
    const t0 = performance.now();
    const loaded = loadCausalLM(o.model, loadOptionsFromFlags(o));
    const { model, tokenizer } = loaded;
    let prompt: Int32Array;
    if (o.promptIds !== undefined) prompt = Int32Array.from(parseIds(o.promptIds, '--prompt-ids'));
    else {
      if (!tokenizer) throw new UserError(`--prompt needs a tokenizer: ${o.model} has no tokenizer.json (give --tokenizer, or use --prompt-ids)`);
      const text = o.prompt === '-' ? readFileSync(0, 'utf8') : o.prompt!;
      prompt = Int32Array.from(tokenizer.encode(text, { addBos: tokenizer.spec.addBos ?? false }));
    }
    const sampling = samplingFromFlags(o, loaded.sampling);
    const engine = createEngine(model, { tokenizer, eosIds: loaded.eosIds });
    const t1 = performance.now();
    let tFirst = 0;
    // without a tokenizer there is no text: the ids are the output
    const idsOnly = o.printIds || !tokenizer;
    const stream = !idsOnly && !o.json;
    const onToken = (e: TokenEvent) => {
      if (!tFirst) tFirst = performance.now();
      if (stream && e.text) process.stdout.write(e.text);
    };
    let r: GenerationResult;
    try {
      r = await engine.generate({ prompt, maxTokens, sampling, stop: o.stop.length ? o.stop : undefined, stopIds: o.ignoreEos ? [] : undefined, logprobs }, onToken);
    } finally {
      await engine.close();
    }
    const t2 = performance.now();
    if (o.json) process.stdout.write(jsonResult(r));
    else if (idsOnly) process.stdout.write(r.ids.join(' ') + '\n');
    else if (process.stdout.isTTY) process.stdout.write('\n');
    if (o.stats) {
      const gen = r.completionTokens, dec = (t2 - (tFirst || t2)) / 1000;
      process.stderr.write(`dsllm: load ${((t1 - t0) / 1000).toFixed(2)} s; ${r.promptTokens} prompt tokens, first token after ${(((tFirst || t2) - t1) / 1000).toFixed(3)} s; ` +
        `${gen} generated (${r.finishReason})${gen > 1 && dec > 0 ? `, ${((gen - 1) / dec).toFixed(1)} tokens/s after the first` : ''}\n`);
    }
    model.dispose();
  });
}
