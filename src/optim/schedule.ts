// Learning-rate schedules. The paper's multi-step schedule: linear warmup (2000 steps at scale) to the
// peak, the peak until 80% of training, 31.6% (1/√10) of it until 90%, then 10% to the end. The
// paper chose it over cosine because the first stage can be reused when training is extended.
export interface MultiStepSchedule {
  kind: 'multistep';
  peak: number;
  warmup: number;
  total: number;
  /** fractions of total where the rate drops, and the factor after each (default [0.8, 0.9], [0.316, 0.1]) */
  boundaries?: number[];
  factors?: number[];
}

export interface CosineSchedule { kind: 'cosine'; peak: number; warmup: number; total: number; minRatio?: number }

export type Schedule = MultiStepSchedule | CosineSchedule;

/** learning rate for the update with index `step` (0-based) */
export function learningRate(s: Schedule, step: number): number {
  if (s.warmup > 0 && step < s.warmup) return (s.peak * (step + 1)) / s.warmup;
  if (s.kind === 'multistep') {
    const bounds = s.boundaries ?? [0.8, 0.9];
    const factors = s.factors ?? [0.316, 0.1];
    let f = 1;
    for (let i = 0; i < bounds.length; i++) if (step >= Math.round(bounds[i] * s.total)) f = factors[i];
    return s.peak * f;
  }
  const progress = Math.min(1, (step - s.warmup) / Math.max(1, s.total - s.warmup));
  const min = s.minRatio ?? 0.1;
  return s.peak * (min + (1 - min) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
