// `dsllm scaling plan`: from a compute budget to a training run by the paper's laws (§3): η_opt and
// B_opt (eq. 1), M_opt and D_opt (eq. 4, or other exponents), a model shape whose M is closest to
// M_opt, and the step count, warmup and multi-step boundaries of that run.
import type { ModelConfig } from '../nn/config.js';
import { allocationLaws, DATA_PRESETS, evalLaw, PAPER_LAWS, type DataPreset, type PowerLaw } from './laws.js';
import { flopsRow, type FlopsRow } from './flops.js';
import { searchShape, type ShapeOptions } from './shape.js';

export interface PlanOptions {
  /** compute budget C = M·D in FLOPs */
  compute: number;
  seqLen?: number;
  vocab?: number;
  /** allocation exponents a (M_opt ∝ C^a), b (D_opt ∝ C^b); or a data-quality preset (Table 4) */
  exponents?: { a: number; b: number };
  data?: DataPreset;
  /** laws that replace the paper's (e.g. fitted by `dsllm scaling report`) */
  laws?: Partial<Laws>;
  shape?: Partial<Omit<ShapeOptions, 'vocab' | 'seqLen'>>;
  /** paper: 2000 warmup steps; capped at this fraction of the run for small budgets (default 0.05) */
  warmupFraction?: number;
}

export interface Laws { eta: PowerLaw; batch: PowerLaw; modelScale: PowerLaw; dataScale: PowerLaw }

export interface Plan {
  compute: number;
  seq_len: number;
  eta_opt: number;
  /** B_opt in tokens, and as whole sequences of seq_len (≥ 1) */
  batch_tokens_opt: number;
  batch_sequences: number;
  batch_tokens: number;
  M_opt: number;
  D_opt: number;
  laws: Laws;
  model: ModelConfig;
  /** the chosen shape's FLOPs/token (M and the other representations) */
  flops: FlopsRow;
  /** tokens the budget buys at the chosen shape's M (C / M) */
  tokens: number;
  steps: number;
  warmup: number;
  /** learning-rate stages: from `step` on, `lr` (after warmup) */
  lr_stages: { step: number; lr: number }[];
}

export class PlanError extends Error {
  constructor(msg: string) { super(msg); this.name = 'PlanError'; }
}

export function resolveLaws(o: Pick<PlanOptions, 'exponents' | 'data' | 'laws'>): Laws {
  let alloc = { modelScale: { ...PAPER_LAWS.modelScale } as PowerLaw, dataScale: { ...PAPER_LAWS.dataScale } as PowerLaw };
  if (o.exponents && o.data) throw new PlanError('give --exponents or --data, not both');
  if (o.exponents) alloc = allocationLaws(o.exponents.a, o.exponents.b);
  if (o.data) {
    const p = DATA_PRESETS[o.data];
    if (!p) throw new PlanError(`unknown data preset "${o.data}" (one of ${Object.keys(DATA_PRESETS).join(', ')})`);
    alloc = allocationLaws(p.a, p.b);
  }
  return { eta: { ...PAPER_LAWS.eta }, batch: { ...PAPER_LAWS.batch }, ...alloc, ...o.laws };
}

export function plan(o: PlanOptions): Plan {
  const C = o.compute;
  if (!(C > 0) || !Number.isFinite(C)) throw new PlanError(`compute must be a positive number of FLOPs, got ${C}`);
  const seqLen = o.seqLen ?? 4096, vocab = o.vocab ?? 102400;
  const laws = resolveLaws(o);
  const eta = evalLaw(laws.eta, C), bTok = evalLaw(laws.batch, C);
  const Mopt = evalLaw(laws.modelScale, C), Dopt = evalLaw(laws.dataScale, C);
  const shape = searchShape(Mopt, { vocab, seqLen, ...o.shape });
  const seqs = Math.max(1, Math.round(bTok / seqLen));
  const tokens = C / shape.M;
  const steps = Math.round(tokens / (seqs * seqLen));
  if (steps < 1) {
    throw new PlanError(`compute ${C.toExponential(3)} buys ${tokens.toExponential(3)} tokens at M = ${shape.M.toExponential(3)} FLOPs/token: less than one step of ${seqs}×${seqLen} tokens (needs ≥ ${(shape.M * seqs * seqLen).toExponential(3)} FLOPs)`);
  }
  const warmup = Math.min(2000, Math.max(1, Math.round(steps * (o.warmupFraction ?? 0.05))));
  return {
    compute: C, seq_len: seqLen, eta_opt: eta, batch_tokens_opt: bTok, batch_sequences: seqs, batch_tokens: seqs * seqLen,
    M_opt: Mopt, D_opt: Dopt, laws, model: shape.config, flops: flopsRow(shape.config, seqLen), tokens, steps, warmup,
    // the schedule of src/optim/schedule.ts: drops at round(0.8·total) and round(0.9·total)
    lr_stages: [{ step: 0, lr: eta }, { step: Math.round(0.8 * steps), lr: eta * 0.316 }, { step: Math.round(0.9 * steps), lr: eta * 0.1 }],
  };
}

const si = (v: number) => {
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  for (const [f, u] of units) if (Math.abs(v) >= f) return `${+(v / f).toPrecision(4)}${u}`;
  return String(+v.toPrecision(4));
};

/** the plan as the lines `dsllm scaling plan` prints */
export function formatPlan(p: Plan): string {
  const m = p.model;
  const law = (l: PowerLaw) => `${+l.coef.toPrecision(4)}·C^${+l.exp.toPrecision(4)}`;
  return [
    `compute C = ${p.compute.toExponential(3)} FLOPs (C = M·D, M = non-embedding FLOPs/token)`,
    `η_opt  = ${law(p.laws.eta)} = ${p.eta_opt.toExponential(3)}`,
    `B_opt  = ${law(p.laws.batch)} = ${si(p.batch_tokens_opt)} tokens ≈ ${p.batch_sequences} sequences of ${p.seq_len}`,
    `M_opt  = ${law(p.laws.modelScale)} = ${p.M_opt.toExponential(3)} FLOPs/token`,
    `D_opt  = ${law(p.laws.dataScale)} = ${si(p.D_opt)} tokens`,
    `model  : ${m.num_hidden_layers} layers × d_model ${m.hidden_size}, ${m.num_attention_heads} heads (head_dim ${m.head_dim}), ${m.num_key_value_heads} KV heads, FFN ${m.intermediate_size}, vocab ${m.vocab_size}`,
    `         M = ${p.flops.M.toExponential(3)} (${((p.flops.M / p.M_opt - 1) * 100).toFixed(1)}% from M_opt), 6N1/M = ${p.flops.ratio_6N1_M.toFixed(2)}, 6N2/M = ${p.flops.ratio_6N2_M.toFixed(2)}, d_model/n_layer = ${(m.hidden_size / m.num_hidden_layers).toFixed(0)}`,
    `run    : ${si(p.tokens)} tokens = ${p.steps} steps of ${p.batch_sequences}×${p.seq_len}, warmup ${p.warmup}, LR ${p.eta_opt.toExponential(2)} → ${p.lr_stages[1].lr.toExponential(2)} at step ${p.lr_stages[1].step} (80%) → ${p.lr_stages[2].lr.toExponential(2)} at step ${p.lr_stages[2].step} (90%)`,
  ].join('\n');
}
