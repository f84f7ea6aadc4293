// Flags shared by `dsllm generate` and `dsllm chat`: the model, the tokenizer and the sampling knobs.
import type { Command } from 'commander';
import { UserError } from './errors.js';
import type { SamplingOptions } from '../infer/types.js';
import type { LoadCausalLMOptions } from '../infer/load-causal-lm.js';

export interface SamplingFlags {
  greedy?: boolean;
  temperature?: string;
  topP?: string;
  topK?: string;
  minP?: string;
  repetitionPenalty?: string;
  frequencyPenalty?: string;
  presencePenalty?: string;
  seed?: string;
}

export interface ModelFlags {
  model: string;
  tokenizer?: string;
  weights?: string;
  recompute?: boolean;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--model <path>', 'HF model directory (config.json + safetensors) or a .gguf file')
    .option('--tokenizer <file>', 'tokenizer file (default: tokenizer.json in the model directory)')
    .option('--weights <format>', 'weight storage: keep (as stored), f32, bf16, f16, q8_0, q4_0', 'keep')
    .option('--recompute', 'run the full-recompute reference model (no KV cache; slow, for checking)');
}

const FORMATS = ['keep', 'f32', 'bf16', 'f16', 'q8_0', 'q4_0'] as const;

/** loadCausalLM's options from the flags */
export function loadOptionsFromFlags(o: ModelFlags): LoadCausalLMOptions {
  const weights = (o.weights ?? 'keep') as (typeof FORMATS)[number];
  if (!FORMATS.includes(weights)) throw new UserError(`--weights must be one of ${FORMATS.join(', ')}, got "${o.weights}"`);
  return { tokenizer: o.tokenizer, weights, runner: o.recompute ? 'recompute' : 'cached' };
}

export function addSamplingOptions(cmd: Command): Command {
  return cmd
    .option('--greedy', 'always the most likely token (same as --temperature 0)')
    .option('--temperature <t>', 'softmax temperature, 0 = greedy (default: generation_config.json, else 1)')
    .option('--top-p <p>', 'nucleus sampling: the smallest set of tokens holding p of the probability')
    .option('--top-k <k>', 'sample among the k most likely tokens (0 = off)')
    .option('--min-p <m>', 'drop tokens less likely than m × the most likely one')
    .option('--repetition-penalty <r>', 'CTRL-style penalty on tokens already in prompt or output (1 = off)')
    .option('--frequency-penalty <f>', 'OpenAI-style: logit −= f × count in the output')
    .option('--presence-penalty <p>', 'OpenAI-style: logit −= p if in the output')
    .option('--seed <n>', 'random seed: same seed ⇒ same output');
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UserError(`${flag} expects a number, got "${v}"`);
  return n;
}

/** the sampling options: the model's defaults, then the flags */
export function samplingFromFlags(o: SamplingFlags, defaults: SamplingOptions): SamplingOptions {
  const s: SamplingOptions = { ...defaults };
  const set = <K extends keyof SamplingOptions>(k: K, v: number | undefined) => { if (v !== undefined) s[k] = v; };
  set('temperature', num('--temperature', o.temperature));
  set('topP', num('--top-p', o.topP));
  set('topK', num('--top-k', o.topK));
  set('minP', num('--min-p', o.minP));
  set('repetitionPenalty', num('--repetition-penalty', o.repetitionPenalty));
  set('frequencyPenalty', num('--frequency-penalty', o.frequencyPenalty));
  set('presencePenalty', num('--presence-penalty', o.presencePenalty));
  set('seed', num('--seed', o.seed));
  if (o.greedy) {
    if (o.temperature !== undefined && Number(o.temperature) !== 0) throw new UserError('--greedy and --temperature contradict each other');
    s.temperature = 0;
  }
  return s;
}

export function intFlag(flag: string, v: string, min = 0): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new UserError(`${flag} expects an integer ≥ ${min}, got "${v}"`);
  return n;
}
