// The paper's fits (§3) on sweep results: power laws in log space with t-based confidence intervals,
// the near-optimal region of a budget (generalization error within 0.25% of its minimum), η_opt(C)
// and B_opt(C) from near-optimal points, IsoFLOP minima (a parabola in log M per budget) → M_opt(C)
// and D_opt(C), and bits-per-byte vs compute with a prediction for a larger budget.
import { FitError, fitLine, fitParabola, tQuantile, type LineFit } from './stats.js';
import type { PowerLaw } from './laws.js';

export { FitError };

/** one training run of a sweep, as cached in its result.json */
export interface RunResult {
  id: string;
  kind: 'grid' | 'isoflop' | 'verify';
  compute: number;
  /** the model's paper FLOPs/token and shape */
  M: number;
  n_layer: number;
  d_model: number;
  batch_tokens: number;
  lr: number;
  steps: number;
  tokens: number;
  status: 'ok' | 'failed';
  reason?: string;
  val_bpb: number | null;
  val_loss: number | null;
  wall_s: number;
}

export interface Excluded { id: string; reason: string }

export interface PowerLawFit extends PowerLaw {
  n: number;
  r2: number;
  /** confidence level and intervals of the exponent and the coefficient */
  level: number;
  expCI: [number, number];
  coefCI: [number, number];
  /** the fit in log space, for predictions */
  line: LineFit;
}

/** y = coef·x^exp by least squares on (ln x, ln y); intervals from the t distribution (n − 2 dof) */
export function fitPowerLaw(x: number[], y: number[], what: string, level = 0.95): PowerLawFit {
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] > 0) || !(y[i] > 0)) throw new FitError(`${what}: point ${i} (${x[i]}, ${y[i]}) is not positive; a power law is fitted in log space`);
  }
  const line = fitLine(x.map(Math.log), y.map(Math.log), what);
  const t = tQuantile(0.5 + level / 2, line.n - 2);
  return {
    coef: Math.exp(line.intercept), exp: line.slope, n: line.n, r2: line.r2, level, line,
    expCI: [line.slope - t * line.seSlope, line.slope + t * line.seSlope],
    coefCI: [Math.exp(line.intercept - t * line.seIntercept), Math.exp(line.intercept + t * line.seIntercept)],
  };
}

/** value of a fitted law at x, with the prediction interval of a new observation there */
export function predict(f: PowerLawFit, x: number): { value: number; lo: number; hi: number } {
  const u = Math.log(x), l = f.line;
  const t = tQuantile(0.5 + f.level / 2, l.n - 2);
  const se = l.sigma * Math.sqrt(1 + 1 / l.n + (u - l.xMean) ** 2 / l.sxx);
  const mid = l.intercept + l.slope * u;
  return { value: Math.exp(mid), lo: Math.exp(mid - t * se), hi: Math.exp(mid + t * se) };
}

/** splits runs into usable ones and the rest, each with the reason it is left out */
export function usableRuns(runs: RunResult[]): { ok: RunResult[]; excluded: Excluded[] } {
  const ok: RunResult[] = [], excluded: Excluded[] = [];
  for (const r of runs) {
    if (r.status !== 'ok') excluded.push({ id: r.id, reason: r.reason ?? 'failed' });
    else if (r.val_bpb === null || !Number.isFinite(r.val_bpb)) excluded.push({ id: r.id, reason: `validation bits-per-byte is ${r.val_bpb} (diverged)` });
    else ok.push(r);
  }
  return { ok, excluded };
}

export function byBudget(runs: RunResult[]): Map<number, RunResult[]> {
  const m = new Map<number, RunResult[]>();
  for (const r of runs) m.set(r.compute, [...(m.get(r.compute) ?? []), r]);
  return new Map([...m.entries()].sort((a, b) => a[0] - b[0]));
}

/** runs of one budget whose bits-per-byte is within `tol` (relative) of that budget's best */
export function nearOptimal(runs: RunResult[], tol = 0.0025): RunResult[] {
  const best = Math.min(...runs.map((r) => r.val_bpb as number));
  return runs.filter((r) => (r.val_bpb as number) <= best * (1 + tol));
}

export interface HyperFit {
  tolerance: number;
  eta: PowerLawFit;
  batch: PowerLawFit;
  /** the near-optimal points the laws were fitted on, per budget */
  near: { compute: number; lr: number; batch_tokens: number; val_bpb: number }[];
  best: { compute: number; lr: number; batch_tokens: number; val_bpb: number }[];
}

/** η_opt(C) and B_opt(C) from the near-optimal (B, η) points of every budget (paper Fig. 3) */
export function fitHyper(runs: RunResult[], tol = 0.0025): HyperFit {
  const groups = byBudget(runs);
  if (groups.size < 2) throw new FitError(`hyper-parameter laws: results at ${groups.size} compute budget${groups.size === 1 ? '' : 's'}; a law in C needs at least 2 budgets (3 or more for useful intervals)`);
  const near: HyperFit['near'] = [], best: HyperFit['best'] = [];
  for (const [C, rs] of groups) {
    const pt = (r: RunResult) => ({ compute: C, lr: r.lr, batch_tokens: r.batch_tokens, val_bpb: r.val_bpb as number });
    near.push(...nearOptimal(rs, tol).map(pt));
    best.push(pt(rs.reduce((a, b) => ((b.val_bpb as number) < (a.val_bpb as number) ? b : a))));
  }
  return {
    tolerance: tol, near, best,
    eta: fitPowerLaw(near.map((p) => p.compute), near.map((p) => p.lr), 'η_opt(C) on near-optimal points'),
    batch: fitPowerLaw(near.map((p) => p.compute), near.map((p) => p.batch_tokens), 'B_opt(C) on near-optimal points'),
  };
}

export interface IsoFlopBudget {
  compute: number;
  /** the runs of this budget: (M, D, bpb) */
  points: { M: number; tokens: number; val_bpb: number }[];
  /** the parabola bpb = a + b·ln M + c·ln² M and its minimum */
  parabola: { a: number; b: number; c: number } | null;
  M_opt: number | null;
  D_opt: number | null;
  bpb_min: number | null;
  /** the lowest bits-per-byte any run of this budget reached */
  best_bpb: number;
  /** why this budget gives no minimum (too few points, no curvature, minimum outside the sampled range) */
  excluded?: string;
}

export interface IsoFlopFit {
  budgets: IsoFlopBudget[];
  modelScale: PowerLawFit;
  dataScale: PowerLawFit;
  /**
   * bits-per-byte of each budget's best run vs C: the law predictions are made with. A trained run is
   * what `verify` measures, so the law is fitted on trained runs (the paper's Fig. 5 points are
   * trained models too). A parabola's minimum is a fitted value no run realizes: it sits below the
   * best run where the profile is parabolic and off it where it is not (kept as lossAtMinimum).
   */
  loss: PowerLawFit;
  /** bits-per-byte at the IsoFLOP parabola minima vs C (budgets with a minimum) */
  lossAtMinimum: PowerLawFit;
}

/** the minimum of one budget's IsoFLOP profile (paper Fig. 4a) */
export function isoflopMinimum(C: number, runs: RunResult[]): IsoFlopBudget {
  const points = runs.map((r) => ({ M: r.M, tokens: r.tokens, val_bpb: r.val_bpb as number })).sort((a, b) => a.M - b.M);
  const out: IsoFlopBudget = { compute: C, points, parabola: null, M_opt: null, D_opt: null, bpb_min: null, best_bpb: Math.min(...points.map((q) => q.val_bpb)) };
  if (new Set(points.map((p) => p.M)).size < 3) {
    out.excluded = `${points.length} usable run${points.length === 1 ? '' : 's'} at ${new Set(points.map((p) => p.M)).size} model sizes; a parabola in log M needs at least 3`;
    return out;
  }
  const p = fitParabola(points.map((q) => Math.log(q.M)), points.map((q) => q.val_bpb), `IsoFLOP C=${C.toExponential(2)}`);
  out.parabola = p;
  if (!(p.c > 0)) { out.excluded = 'the profile has no minimum (the parabola opens downward)'; return out; }
  const u = -p.b / (2 * p.c);
  const lo = Math.log(points[0].M), hi = Math.log(points[points.length - 1].M);
  if (u < lo || u > hi) { out.excluded = `the fitted minimum M = ${Math.exp(u).toExponential(2)} lies outside the sampled sizes ${points[0].M.toExponential(2)} … ${points[points.length - 1].M.toExponential(2)}: widen the splits`; return out; }
  out.M_opt = Math.exp(u);
  out.D_opt = C / out.M_opt;
  out.bpb_min = p.a + p.b * u + p.c * u * u;
  return out;
}

/** IsoFLOP minima of every budget → M_opt(C), D_opt(C), and the loss vs C (Figs. 4–5) */
export function fitIsoFlop(runs: RunResult[]): IsoFlopFit {
  const budgets = [...byBudget(runs)].map(([C, rs]) => isoflopMinimum(C, rs));
  const good = budgets.filter((b) => b.M_opt !== null);
  if (good.length < 3) {
    const why = budgets.filter((b) => b.excluded).map((b) => `C=${b.compute.toExponential(2)}: ${b.excluded}`).join('; ');
    throw new FitError(`M_opt(C), D_opt(C): ${good.length} budget${good.length === 1 ? '' : 's'} with an IsoFLOP minimum; the laws need at least 3${why ? ` (${why})` : ''}`);
  }
  const C = good.map((b) => b.compute);
  return {
    budgets,
    modelScale: fitPowerLaw(C, good.map((b) => b.M_opt as number), 'M_opt(C)'),
    dataScale: fitPowerLaw(C, good.map((b) => b.D_opt as number), 'D_opt(C)'),
    loss: fitPowerLaw(budgets.map((b) => b.compute), budgets.map((b) => b.best_bpb), 'bits-per-byte(C) of the best runs'),
    lossAtMinimum: fitPowerLaw(C, good.map((b) => b.bpb_min as number), 'bits-per-byte(C) at the IsoFLOP minima'),
  };
}
