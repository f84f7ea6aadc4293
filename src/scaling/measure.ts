// Throughput of this machine for a budget given in CPU/GPU hours: a few real training steps of the
// model the plan picks (random tokens; the cost does not depend on the data), counted as the paper
// counts compute, M × tokens/s. `planForHours` re-plans with the measured rate until the model stops
// changing, since a different budget picks a different model with a different rate.
import { DeepSeekLM } from '../nn/deepseek.js';
import { AdamW } from '../optim/adamw.js';
import { Tensor } from '../core/tensor.js';
import { Rng } from '../util/rng.js';
import { trainStep } from '../train/step.js';
import { paperM } from './flops.js';
import { plan, type Plan, type PlanOptions } from './plan.js';
import type { ModelConfig } from '../nn/config.js';

export interface Throughput { tokens_per_s: number; flops_per_s: number; micro_batch: number; steps: number }

/** times `steps` optimizer steps (after one warm-up step) on micro-batches of ≤ maxTokens tokens */
export function measureThroughput(config: ModelConfig, seqLen: number, batchSeqs: number, steps = 3, maxTokens = 16384): Throughput {
  const B = Math.max(1, Math.min(batchSeqs, Math.floor(maxTokens / seqLen)));
  const model = new DeepSeekLM(config, { seed: 1 });
  const opt = new AdamW(model.namedParameters());
  const rng = new Rng(2);
  const batch = () => {
    const ids = Tensor.empty([B, seqLen], 'i32'), targets = Tensor.empty([B, seqLen], 'i32');
    for (let i = 0; i < B * seqLen; i++) { ids.i32[i] = rng.int(config.vocab_size); targets.i32[i] = rng.int(config.vocab_size); }
    return { ids, targets };
  };
  let t = 0;
  try {
    for (let s = 0; s <= steps; s++) {
      const b = batch();
      const t0 = performance.now();
      trainStep(model, opt, [b], 1e-4);
      if (s > 0) t += (performance.now() - t0) / 1000;
      b.ids.dispose(); b.targets.dispose();
    }
  } finally { model.dispose(); opt.dispose(); }
  const tps = (steps * B * seqLen) / t;
  return { tokens_per_s: tps, flops_per_s: tps * paperM(config.num_hidden_layers, config.hidden_size, seqLen), micro_batch: B, steps };
}

/** the plan for `hours` of this machine: measure, re-plan, measure again (at most 3 rounds) */
export function planForHours(hours: number, o: Omit<PlanOptions, 'compute'>, guessFlopsPerS = 5e9, log?: (s: string) => void): { plan: Plan; throughput: Throughput } {
  let rate = guessFlopsPerS;
  let last: string | null = null;
  let out: { plan: Plan; throughput: Throughput } | null = null;
  for (let round = 0; round < 3; round++) {
    const p = plan({ ...o, compute: hours * 3600 * rate });
    const key = `${p.model.num_hidden_layers}x${p.model.hidden_size}`;
    if (out && key === last) break;
    const th = measureThroughput(p.model, p.seq_len, p.batch_sequences);
    log?.(`measured ${key}: ${Math.round(th.tokens_per_s)} tokens/s = ${th.flops_per_s.toExponential(2)} FLOP/s (M × tokens/s)`);
    rate = th.flops_per_s;
    last = key;
    out = { plan: plan({ ...o, compute: hours * 3600 * rate }), throughput: th };
  }
  return out!;
}
