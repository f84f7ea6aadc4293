// Paper App. A.2 (Fig. 6): the same loss-vs-compute fit with compute counted three ways, C = M·D,
// 6N1·D and 6N2·D. On small models the three disagree most; the paper finds 6N1 over-estimates and
// 6N2 under-estimates large-model performance while M predicts best. Here: each IsoFLOP budget's best
// run, fitted in each representation, and (after verify) each one's prediction for the verified run.
import { fitPowerLaw, predict, usableRuns, byBudget, type RunResult } from './fit.js';
import { BYTE_VOCAB } from '../train/data.js';

export type Representation = 'M' | '6N1' | '6N2';

export function flopsPerTokenOf(r: Pick<RunResult, 'n_layer' | 'd_model' | 'M'>, rep: Representation, vocab = BYTE_VOCAB): number {
  const n = r.n_layer, d = r.d_model;
  if (rep === 'M') return r.M;
  return rep === '6N1' ? 72 * n * d * d : 72 * n * d * d + 6 * vocab * d;
}

export interface RepresentationFit {
  representation: Representation;
  coef: number;
  exp: number;
  r2: number;
  /** the verified run: its compute in this representation, the predicted and actual bits-per-byte */
  verify?: { compute: number; predicted: number; actual: number; rel_error: number };
}

/** needs ≥ 3 IsoFLOP budgets; returns [] with fewer */
export function representationFits(runs: RunResult[], verified: RunResult | null): RepresentationFit[] {
  const { ok } = usableRuns(runs.filter((r) => r.kind === 'isoflop'));
  const best = [...byBudget(ok).values()].map((rs) => rs.reduce((a, b) => ((b.val_bpb as number) < (a.val_bpb as number) ? b : a)));
  if (best.length < 3) return [];
  return (['M', '6N1', '6N2'] as Representation[]).map((rep) => {
    const C = best.map((r) => flopsPerTokenOf(r, rep) * r.tokens);
    const f = fitPowerLaw(C, best.map((r) => r.val_bpb as number), `bits-per-byte vs ${rep}·D`);
    const out: RepresentationFit = { representation: rep, coef: f.coef, exp: f.exp, r2: f.r2 };
    if (verified && verified.status === 'ok' && verified.val_bpb !== null) {
      const c = flopsPerTokenOf(verified, rep) * verified.tokens;
      const p = predict(f, c).value;
      out.verify = { compute: c, predicted: p, actual: verified.val_bpb, rel_error: (verified.val_bpb - p) / p };
    }
    return out;
  });
}
