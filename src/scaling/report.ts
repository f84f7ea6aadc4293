// `dsllm scaling report <dir>`: the fits of a sweep (fits.json), the figures and report.md with the
// fitted laws next to the paper's, the runs left out and why, and the verify result when present.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { fitHyper, fitIsoFlop, predict, usableRuns, type Excluded, type HyperFit, type IsoFlopFit, type PowerLawFit, type RunResult } from './fit.js';
import { PAPER_LAWS } from './laws.js';
import { readSweepResults } from './sweep.js';
import { gridFigures, hyperFigures, isoflopFigures, lossFigure, representationFigure } from './plots.js';
import { representationFits, type RepresentationFit } from './representations.js';

export interface Prediction { compute: number; bpb: number; lo: number; hi: number }
export interface VerifyRecord {
  compute: number;
  /** by the law through each budget's best run (IsoFlopFit.loss) */
  predicted: Prediction;
  actual_bpb: number | null;
  rel_error: number | null;
  /** by the law through the IsoFLOP parabola minima, for comparison */
  predicted_at_minimum?: Prediction;
  rel_error_at_minimum?: number | null;
  run: RunResult;
}

export interface SweepFits {
  runs: number;
  excluded: Excluded[];
  hyper: HyperFit | null;
  hyper_error?: string;
  isoflop: IsoFlopFit | null;
  isoflop_error?: string;
  /** bits-per-byte predicted by the loss law at `predict_factor` × the largest IsoFLOP budget */
  prediction: Prediction | null;
  /** the same by the law through the parabola minima */
  predictionAtMinimum: Prediction | null;
  /** the loss law with compute counted as M·D, 6N1·D, 6N2·D (App. A.2) */
  representations: RepresentationFit[];
}

export function fitSweep(runs: RunResult[], predictFactor = 4, verified: RunResult | null = null): SweepFits {
  const { ok, excluded } = usableRuns(runs.filter((r) => r.kind !== 'verify'));
  const out: SweepFits = { runs: runs.length, excluded, hyper: null, isoflop: null, prediction: null, predictionAtMinimum: null, representations: [] };
  try { out.representations = representationFits(runs, verified); } catch { /* too few or degenerate points: the IsoFLOP error says why */ }
  const grid = ok.filter((r) => r.kind === 'grid'), iso = ok.filter((r) => r.kind === 'isoflop');
  if (grid.length) { try { out.hyper = fitHyper(grid); } catch (e) { out.hyper_error = (e as Error).message; } }
  if (iso.length) {
    try {
      out.isoflop = fitIsoFlop(iso);
      const C = predictFactor * Math.max(...iso.map((r) => r.compute));
      out.prediction = predictionAt(out.isoflop.loss, C);
      out.predictionAtMinimum = predictionAt(out.isoflop.lossAtMinimum, C);
    } catch (e) { out.isoflop_error = (e as Error).message; }
  }
  return out;
}

export function predictionAt(f: PowerLawFit, C: number): Prediction {
  const p = predict(f, C);
  return { compute: C, bpb: p.value, lo: p.lo, hi: p.hi };
}

const law = (f: PowerLawFit) => `${f.coef.toPrecision(4)} · C^${f.exp.toFixed(4)}`;
const ci = (f: PowerLawFit) => `exponent ${f.expCI[0].toFixed(4)} … ${f.expCI[1].toFixed(4)}, coefficient ${f.coefCI[0].toPrecision(3)} … ${f.coefCI[1].toPrecision(3)} (${(f.level * 100).toFixed(0)}%), R² ${f.r2.toFixed(3)}, ${f.n} points`;
const paper = (l: { coef: number; exp: number }) => `${l.coef} · C^${l.exp}`;

function markdown(dir: string, runs: RunResult[], fits: SweepFits, figs: string[], verify: VerifyRecord | null): string {
  const ok = runs.filter((r) => r.status === 'ok');
  const L: string[] = [`# Scaling sweep: ${basename(dir)}`, '',
    `${runs.length} runs (${ok.length} finished, ${runs.length - ok.length} failed), ${runs.filter((r) => r.kind === 'grid').length} on the batch × LR grid and ${runs.filter((r) => r.kind === 'isoflop').length} on IsoFLOP profiles; ` +
    `${(runs.reduce((a, r) => a + r.wall_s, 0) / 60).toFixed(1)} CPU-process minutes. Compute C = M·D with M the paper's non-embedding FLOPs/token (eq. 2); loss is held-out bits per byte.`, ''];
  L.push('## Fitted laws vs the paper', '', '| law | this sweep | paper | interval |', '|---|---|---|---|');
  if (fits.hyper) {
    L.push(`| η_opt(C) | ${law(fits.hyper.eta)} | ${paper(PAPER_LAWS.eta)} | ${ci(fits.hyper.eta)} |`);
    L.push(`| B_opt(C) tokens | ${law(fits.hyper.batch)} | ${paper(PAPER_LAWS.batch)} | ${ci(fits.hyper.batch)} |`);
  }
  if (fits.isoflop) {
    L.push(`| M_opt(C) | ${law(fits.isoflop.modelScale)} | ${paper(PAPER_LAWS.modelScale)} | ${ci(fits.isoflop.modelScale)} |`);
    L.push(`| D_opt(C) | ${law(fits.isoflop.dataScale)} | ${paper(PAPER_LAWS.dataScale)} | ${ci(fits.isoflop.dataScale)} |`);
    L.push(`| bits/byte(C), best run per budget | ${law(fits.isoflop.loss)} | not given | ${ci(fits.isoflop.loss)} |`);
    L.push(`| bits/byte(C), parabola minima | ${law(fits.isoflop.lossAtMinimum)} | not given | ${ci(fits.isoflop.lossAtMinimum)} |`);
  }
  L.push('');
  if (fits.hyper_error) L.push(`Hyper-parameter laws not fitted: ${fits.hyper_error}`, '');
  if (fits.isoflop_error) L.push(`IsoFLOP laws not fitted: ${fits.isoflop_error}`, '');
  if (fits.isoflop) {
    const a = fits.isoflop.modelScale.exp, b = fits.isoflop.dataScale.exp;
    L.push(`Allocation exponents a = ${a.toFixed(3)}, b = ${b.toFixed(3)} (paper, current data: 0.524 / 0.476; early data 0.450 / 0.550; OpenWebText2 0.578 / 0.422).`, '');
    L.push('### IsoFLOP minima', '', '| C | runs | M_opt | D_opt | parabola min bits/byte | best run bits/byte | note |', '|---|---|---|---|---|---|---|');
    for (const b of fits.isoflop.budgets) L.push(`| ${b.compute.toExponential(2)} | ${b.points.length} | ${b.M_opt?.toExponential(3) ?? '–'} | ${b.D_opt?.toExponential(3) ?? '–'} | ${b.bpb_min?.toFixed(4) ?? '–'} | ${b.best_bpb.toFixed(4)} | ${b.excluded ?? ''} |`);
    L.push('');
  }
  if (fits.hyper) {
    L.push('### Best (B, η) per budget', '', '| C | batch tokens | η | bits/byte | near-optimal runs |', '|---|---|---|---|---|');
    for (const b of fits.hyper.best) L.push(`| ${b.compute.toExponential(2)} | ${b.batch_tokens} | ${b.lr.toExponential(2)} | ${b.val_bpb.toFixed(4)} | ${fits.hyper.near.filter((p) => p.compute === b.compute).length} |`);
    L.push('');
  }
  if (fits.prediction) {
    const p = fits.prediction, q = fits.predictionAtMinimum;
    L.push('## Prediction', '', `At C = ${p.compute.toExponential(2)} the loss law through each budget's best run predicts **${p.bpb.toFixed(4)}** bits/byte (95% prediction interval ${p.lo.toFixed(4)} … ${p.hi.toFixed(4)}).` +
      (q ? ` The law through the IsoFLOP parabola minima (fitted values, not trained runs) predicts ${q.bpb.toFixed(4)} (${q.lo.toFixed(4)} … ${q.hi.toFixed(4)}).` : ''));
    if (verify) {
      const atMin = q && verify.actual_bpb !== null ? ` (the parabola-minima law: ${(((verify.actual_bpb - q.bpb) / q.bpb) * 100).toFixed(2)}%)` : '';
      L.push(`Verified: a model of M = ${verify.run.M.toExponential(3)} (${verify.run.n_layer}×${verify.run.d_model}) trained on ${verify.run.tokens} tokens at that budget reached ` +
        (verify.actual_bpb !== null ? `**${verify.actual_bpb.toFixed(4)}** bits/byte: predicted vs actual differ by **${((verify.rel_error as number) * 100).toFixed(2)}%**${atMin}.` : `no result (${verify.run.reason}).`));
    } else L.push(`Check it with \`dsllm scaling verify ${dir}\`.`);
    L.push('');
  }
  if (fits.representations.length) {
    L.push('## Compute representations (paper App. A.2)', '', 'The best run of each IsoFLOP budget, its bits-per-byte fitted against compute counted three ways (D tokens; N1 = 12·n·d², N2 = N1 + V·d with V = 257 bytes).', '',
      `| representation | law | R² | ${verify ? 'predicted for the verified run | actual | error |' : ''}`, `|---|---|---|${verify ? '---|---|---|' : ''}`);
    for (const r of fits.representations) {
      L.push(`| ${r.representation}·D | ${r.coef.toPrecision(4)} · C^${r.exp.toFixed(4)} | ${r.r2.toFixed(3)} | ${r.verify ? `${r.verify.predicted.toFixed(4)} | ${r.verify.actual.toFixed(4)} | ${(r.verify.rel_error * 100).toFixed(2)}% |` : ''}`);
    }
    L.push('');
  }
  if (fits.excluded.length) {
    L.push('## Runs left out of the fits', '', '| run | reason |', '|---|---|');
    for (const e of fits.excluded) L.push(`| ${e.id} | ${e.reason.replace(/\|/g, '\\|')} |`);
    L.push('');
  }
  L.push('## Figures', '');
  for (const f of figs.filter((f) => f.endsWith('.svg'))) {
    const png = f.replace(/\.svg$/, '.png');
    L.push(`![${basename(f, '.svg')}](${basename(figs.includes(png) ? png : f)})`, '');
  }
  L.push('## Runs', '', '| run | C | M | tokens | batch | η | steps | bits/byte | s |', '|---|---|---|---|---|---|---|---|---|');
  for (const r of runs) L.push(`| ${r.id} | ${r.compute.toExponential(2)} | ${r.M.toExponential(2)} | ${r.tokens} | ${r.batch_tokens} | ${r.lr.toExponential(2)} | ${r.steps} | ${r.val_bpb?.toFixed(4) ?? r.status} | ${r.wall_s.toFixed(1)} |`);
  return L.join('\n') + '\n';
}

export function readVerify(dir: string): VerifyRecord | null {
  const p = join(dir, 'verify.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) as VerifyRecord : null;
}

/** fits.json, figures and report.md in the sweep directory; returns the fits and the files written */
export function writeReport(dir: string, predictFactor = 4): { fits: SweepFits; files: string[] } {
  const runs = readSweepResults(dir);
  const verify = readVerify(dir);
  const fits = fitSweep(runs, verify ? verify.compute / Math.max(...runs.filter((r) => r.kind === 'isoflop').map((r) => r.compute)) : predictFactor, verify?.run ?? null);
  const { ok } = usableRuns(runs);
  const figs: string[] = [];
  const grid = ok.filter((r) => r.kind === 'grid');
  if (grid.length) figs.push(...gridFigures(dir, grid));
  if (fits.hyper) figs.push(...hyperFigures(dir, fits.hyper));
  if (fits.isoflop) {
    figs.push(...isoflopFigures(dir, fits.isoflop));
    figs.push(...lossFigure(dir, fits.isoflop, fits.prediction, verify?.actual_bpb != null ? { compute: verify.compute, bpb: verify.actual_bpb } : null));
  }
  if (fits.representations.length) figs.push(...representationFigure(dir, fits.representations));
  // the log-space line of each law is kept for predictions; JSON leaves out nothing else
  writeFileAtomic(join(dir, 'fits.json'), JSON.stringify({ ...fits, verify }, null, 2) + '\n');
  writeFileAtomic(join(dir, 'report.md'), markdown(dir, runs, fits, figs, verify));
  return { fits, files: [join(dir, 'fits.json'), join(dir, 'report.md'), ...figs] };
}
