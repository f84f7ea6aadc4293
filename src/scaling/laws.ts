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
