// A sweep file (YAML or JSON), validated with zod, and the runs it expands to: (a) a batch × LR grid
// at several budgets (paper Fig. 2–3), (b) IsoFLOP profiles, several model/data splits per budget
// (Fig. 4). Every run is a byte-level model trained by `train()`; sizes are the paper's M (eq. 2).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { etaOpt, batchTokensOpt, modelScaleOpt } from './laws.js';
import { paperM } from './flops.js';
import { searchShape, shapeConfig, type ShapeOptions } from './shape.js';
import type { ModelConfig } from '../nn/config.js';
import { BYTE_VOCAB } from '../train/data.js';

const Pos = z.number().positive().finite();
const Shape = z.object({ n_layer: z.number().int().positive(), d_model: z.number().int().positive() }).strict();
/** a number, or "paper": the paper's law at the run's budget (eq. 1), optionally times `*_scale` */
const LawOr = z.union([Pos, z.literal('paper')]);

const Grid = z.object({
  budgets: z.array(Pos).min(1),
  /** the model of each budget: a shape, or "auto" (M closest to the paper's M_opt(C)) */
  model: z.union([z.literal('auto'), Shape]).default('auto'),
  /** batch sizes in tokens, or factors of the paper's B_opt(C) */
  batch_tokens: z.array(Pos).optional(),
  batch_factors: z.array(Pos).optional(),
  /** learning rates, or factors of the paper's η_opt(C) */
  lr: z.array(Pos).optional(),
  lr_factors: z.array(Pos).optional(),
}).strict();

const IsoFlop = z.object({
  budgets: z.array(Pos).min(1),
  /** model/data splits per budget, log-spaced from M_opt/span to M_opt·span (paper: about 10) */
  splits: z.number().int().min(3).max(20).default(8),
  span: z.number().min(1.5).default(4),
  /** explicit shapes instead (each budget trains those that get at least one step) */
  models: z.array(Shape).min(3).optional(),
  lr: LawOr.default('paper'),
  lr_scale: Pos.default(1),
  batch_tokens: LawOr.default('paper'),
}).strict();

export const SweepSpecSchema = z.object({
  name: z.string().default('sweep'),
  /** "builtin" (WordNet glosses, offline) or text files / directories of text files */
  data: z.union([z.literal('builtin'), z.string(), z.array(z.string()).min(1)]).default('builtin'),
  /** bytes of text used (chunks shuffled with `seed`, the last 10% held out for bits-per-byte) */
  max_bytes: z.number().int().positive().default(4_000_000),
  seq_len: z.number().int().min(8).default(64),
  /** held-out tokens evaluated at the end of each run */
  eval_tokens: z.number().int().positive().default(65536),
  seed: z.number().int().nonnegative().default(1),
  /** parallel runs (default: the core count) */
  jobs: z.number().int().positive().optional(),
  shape: z.object({
    head_dims: z.array(z.number().int().positive()).min(1).default([16, 32]),
    ffn_multiple: z.number().int().positive().default(32),
    aspect: z.tuple([Pos, Pos]).default([4, 128]),
    target_aspect: Pos.default(32),
  }).strict().default({ head_dims: [16, 32], ffn_multiple: 32, aspect: [4, 128], target_aspect: 32 }),
  grid: Grid.optional(),
  isoflop: IsoFlop.optional(),
}).strict();

export type SweepSpec = z.infer<typeof SweepSpecSchema>;

export class SpecError extends Error {
  constructor(msg: string) { super(msg); this.name = 'SpecError'; }
}

export function parseSpec(raw: unknown, where: string): SweepSpec {
  const r = SweepSpecSchema.safeParse(raw);
  if (!r.success) throw new SpecError(`${where}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  const s = r.data;
  if (!s.grid && !s.isoflop) throw new SpecError(`${where}: nothing to run: give "grid" (batch × LR) and/or "isoflop"`);
  if (s.grid) {
    const g = s.grid;
    if (!!g.batch_tokens === !!g.batch_factors) throw new SpecError(`${where}: grid: give exactly one of batch_tokens, batch_factors`);
    if (!!g.lr === !!g.lr_factors) throw new SpecError(`${where}: grid: give exactly one of lr, lr_factors`);
    const nb = (g.batch_tokens ?? g.batch_factors)!.length, nl = (g.lr ?? g.lr_factors)!.length;
    if (nb < 2 || nl < 2) throw new SpecError(`${where}: grid: ${nb} batch size${nb === 1 ? '' : 's'} × ${nl} learning rate${nl === 1 ? '' : 's'}; a grid needs at least 2 of each to locate an optimum`);
  }
  return s;
}

export function loadSpec(path: string): SweepSpec {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new SpecError(`sweep spec ${path}: cannot read (${(e as Error).message})`); }
  let raw: unknown;
  try { raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text); } catch (e) { throw new SpecError(`sweep spec ${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(e as Error).message})`); }
  const s = parseSpec(raw, `sweep spec ${path}`);
  // data paths are relative to the spec file
  const base = resolve(path, '..');
  if (s.data !== 'builtin') s.data = (Array.isArray(s.data) ? s.data : [s.data]).map((p) => resolve(base, p));
  return s;
}

/** one run to train: everything the worker needs, and what the fits read back */
export interface RunJob {
  id: string;
  kind: 'grid' | 'isoflop' | 'verify';
  compute: number;
  config: ModelConfig;
  M: number;
  seq_len: number;
  batch_seqs: number;
  batch_tokens: number;
  lr: number;
  steps: number;
  tokens: number;
  warmup: number;
  eval_batches: number;
  seed: number;
  /**
   * first-stage reuse (paper §3.1): continue from this checkpoint of a shorter run with the same
   * model, B, η and warmup (the end of its constant-LR stage), and checkpoint at the end of this
   * run's own first stage for the next longer one
   */
  resume_from?: string;
  checkpoint_at?: number;
}

export function shapeOptions(s: SweepSpec): ShapeOptions {
  return { vocab: BYTE_VOCAB, seqLen: s.seq_len, headDims: s.shape.head_dims, ffnMultiple: s.shape.ffn_multiple, aspect: s.shape.aspect, targetAspect: s.shape.target_aspect };
}

const short = (v: number) => v.toExponential(2).replace('e+', 'e').replace('.00', '');

export function makeJob(s: SweepSpec, kind: RunJob['kind'], C: number, config: ModelConfig, batchTokens: number, lr: number): RunJob {
  const n = config.num_hidden_layers, d = config.hidden_size;
  const M = paperM(n, d, s.seq_len);
  const seqs = Math.max(1, Math.round(batchTokens / s.seq_len));
  const bt = seqs * s.seq_len;
  const steps = Math.round(C / (M * bt));
  const id = `${kind}-C${short(C)}-L${n}d${d}-B${bt}-lr${short(lr)}`;
  if (steps < 1) {
    throw new SpecError(`${kind} budget C=${C.toExponential(3)} is smaller than one step of model ${n}×${d} (M = ${M.toExponential(3)} FLOPs/token × ${bt} tokens per step = ${(M * bt).toExponential(3)} FLOPs)`);
  }
  return {
    id, kind, compute: C, config, M, seq_len: s.seq_len, batch_seqs: seqs, batch_tokens: bt, lr, steps, tokens: steps * bt,
    warmup: Math.min(2000, Math.max(1, Math.round(steps * 0.05))),
    eval_batches: Math.max(1, Math.round(s.eval_tokens / bt)), seed: s.seed,
  };
}

/** every run of the sweep, in a deterministic order (small budgets first) */
export function expandRuns(s: SweepSpec): RunJob[] {
  const so = shapeOptions(s);
  const jobs: RunJob[] = [];
  if (s.grid) {
    const g = s.grid;
    for (const C of [...g.budgets].sort((a, b) => a - b)) {
      const cfg = g.model === 'auto' ? searchShape(modelScaleOpt(C), so).config : shapeConfig(g.model.n_layer, g.model.d_model, so);
      const bs = g.batch_tokens ?? g.batch_factors!.map((f) => f * batchTokensOpt(C));
      const lrs = g.lr ?? g.lr_factors!.map((f) => f * etaOpt(C));
      for (const b of bs) for (const lr of lrs) jobs.push(makeJob(s, 'grid', C, cfg, b, lr));
    }
  }
  if (s.isoflop) {
    const f = s.isoflop;
    for (const C of [...f.budgets].sort((a, b) => a - b)) {
      const lr = (f.lr === 'paper' ? etaOpt(C) : f.lr) * f.lr_scale;
      const bt = f.batch_tokens === 'paper' ? batchTokensOpt(C) : f.batch_tokens;
      let cfgs: ModelConfig[];
      if (f.models) cfgs = f.models.map((m) => shapeConfig(m.n_layer, m.d_model, so));
      else {
        const mid = modelScaleOpt(C);
        const targets = Array.from({ length: f.splits }, (_, i) => mid * Math.pow(f.span, (2 * i) / (f.splits - 1) - 1));
        cfgs = targets.map((t) => searchShape(t, so).config);
      }
      const seen = new Set<string>();
      const mine: RunJob[] = [];
      for (const cfg of cfgs) {
        const key = `${cfg.num_hidden_layers}x${cfg.hidden_size}`;
        if (seen.has(key)) continue;
        seen.add(key);
        try { mine.push(makeJob(s, 'isoflop', C, cfg, bt, lr)); } catch (e) { if (!f.models) throw e; }
      }
      // none fits: the error of the smallest model (not one step)
      if (!mine.length) makeJob(s, 'isoflop', C, [...cfgs].sort((p, q) => paperM(p.num_hidden_layers, p.hidden_size, 1) - paperM(q.num_hidden_layers, q.hidden_size, 1))[0], bt, lr);
      jobs.push(...mine);
    }
  }
  return jobs;
}
