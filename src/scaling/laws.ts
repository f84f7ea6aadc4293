// The paper's scaling laws (§3, ../shared/DEEPSEEK-LLM-FACTS.md §5). C is compute in FLOPs = M·D with
// M the non-embedding FLOPs per token (eq. 2) and D tokens; batch sizes are in tokens.
export const PAPER_LAWS = {
  /** η_opt = 0.3118·C^−0.1250 */
  eta: { coef: 0.3118, exp: -0.125 },
  /** B_opt = 0.2920·C^0.3271 (tokens) */
  batch: { coef: 0.292, exp: 0.3271 },
  /** M_opt = 0.1715·C^0.5243 */
  modelScale: { coef: 0.1715, exp: 0.5243 },
  /** D_opt = 5.8316·C^0.4757 */
  dataScale: { coef: 5.8316, exp: 0.4757 },
} as const;

export const etaOpt = (C: number) => PAPER_LAWS.eta.coef * Math.pow(C, PAPER_LAWS.eta.exp);
export const batchTokensOpt = (C: number) => PAPER_LAWS.batch.coef * Math.pow(C, PAPER_LAWS.batch.exp);
export const modelScaleOpt = (C: number) => PAPER_LAWS.modelScale.coef * Math.pow(C, PAPER_LAWS.modelScale.exp);
export const dataScaleOpt = (C: number) => PAPER_LAWS.dataScale.coef * Math.pow(C, PAPER_LAWS.dataScale.exp);

/** y = coef·C^exp */
export interface PowerLaw { coef: number; exp: number }
export const evalLaw = (l: PowerLaw, C: number) => l.coef * Math.pow(C, l.exp);

/**
 * Allocation exponents by data quality (paper Table 4): a for M_opt ∝ C^a, b for D_opt ∝ C^b. The
 * paper gives only exponents for these, so `allocationLaws` anchors their coefficients to the
 * current-data laws at the centre of the paper's fitted range.
 */
export const DATA_PRESETS = {
  early: { a: 0.45, b: 0.55, what: 'DeepSeek early in-house data' },
  current: { a: 0.5243, b: 0.4757, what: 'DeepSeek current in-house data (eq. 4)' },
  openwebtext2: { a: 0.578, b: 0.422, what: 'OpenWebText2 (DeepSeek fit)' },
} as const;
export type DataPreset = keyof typeof DATA_PRESETS;

/** geometric centre of the paper's IsoFLOP budgets (1e17 … 3e20), where other exponents are pinned to eq. 4 */
export const ANCHOR_COMPUTE = Math.sqrt(1e17 * 3e20);

/** M_opt and D_opt laws with exponents a, b; with the paper's own exponents, the paper's coefficients */
export function allocationLaws(a: number, b: number): { modelScale: PowerLaw; dataScale: PowerLaw } {
  const P = PAPER_LAWS;
  if (a === P.modelScale.exp && b === P.dataScale.exp) return { modelScale: { ...P.modelScale }, dataScale: { ...P.dataScale } };
  const C0 = ANCHOR_COMPUTE;
  return {
    modelScale: { coef: modelScaleOpt(C0) / Math.pow(C0, a), exp: a },
    dataScale: { coef: dataScaleOpt(C0) / Math.pow(C0, b), exp: b },
  };
}
