// The scaling-law toolkit as a library (the CLI verb `dsllm scaling` wraps these).
export { PAPER_LAWS, DATA_PRESETS, etaOpt, batchTokensOpt, modelScaleOpt, dataScaleOpt, evalLaw, allocationLaws } from './laws.js';
export type { PowerLaw, DataPreset } from './laws.js';
export { flopsRow, paperM, table3 } from './flops.js';
export type { FlopsRow } from './flops.js';
export { searchShape, shapeConfig, ShapeError } from './shape.js';
export type { Shape, ShapeOptions } from './shape.js';
export { plan, formatPlan, PlanError } from './plan.js';
export type { Plan, PlanOptions, Laws } from './plan.js';
export { measureThroughput, planForHours } from './measure.js';
export { fitPowerLaw, predict, fitHyper, fitIsoFlop, isoflopMinimum, nearOptimal, usableRuns, FitError } from './fit.js';
export type { RunResult, PowerLawFit, HyperFit, IsoFlopFit, IsoFlopBudget } from './fit.js';
export { parseSpec, loadSpec, expandRuns, SpecError, SweepSpecSchema } from './spec.js';
export type { SweepSpec, RunJob } from './spec.js';
export { runSweep, readSweepResults, reuseChains } from './sweep.js';
export { fitSweep, writeReport } from './report.js';
export type { SweepFits } from './report.js';
export { verifySweep } from './verify.js';
