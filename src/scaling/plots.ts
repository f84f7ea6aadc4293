// The paper's scaling figures from a sweep's results and fits (SVG, and PNG when @resvg is present):
// Fig. 2 the loss over (B, η) at a budget, Fig. 3 near-optimal points with the fitted η/B laws,
// Fig. 4 IsoFLOP curves and the fitted M_opt/D_opt lines, Fig. 5 bits-per-byte vs compute with the
// prediction (and the verified run when there is one).
import { join } from 'node:path';
import { lineChart, type Series } from '../util/svg-plot.js';
import { writePlot } from '../train/trainer.js';
import { byBudget, type HyperFit, type IsoFlopFit, type PowerLawFit, type RunResult } from './fit.js';
import { evalLaw } from './laws.js';
import type { RepresentationFit } from './representations.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const logspace = (lo: number, hi: number, n = 40) => Array.from({ length: n }, (_, i) => lo * Math.pow(hi / lo, i / (n - 1)));
const eC = (C: number) => C.toExponential(1).replace('e+', 'e');
const lawName = (f: PowerLawFit, y: string) => `fit ${y} = ${f.coef.toPrecision(3)}·C^${f.exp.toFixed(3)}`;

function lawSeries(f: PowerLawFit, lo: number, hi: number, y: string): Series {
  const x = logspace(lo, hi);
  return { name: lawName(f, y), x, y: x.map((c) => evalLaw(f, c)), color: '#000', dashed: true };
}

/** Fig. 2: one chart per grid budget, a curve of bits-per-byte over batch size for each learning rate */
export function gridFigures(dir: string, grid: RunResult[]): string[] {
  const files: string[] = [];
  for (const [C, rs] of byBudget(grid)) {
    const lrs = [...new Set(rs.map((r) => r.lr))].sort((a, b) => a - b);
    const series: Series[] = lrs.map((lr, i) => {
      const pts = rs.filter((r) => r.lr === lr).sort((a, b) => a.batch_tokens - b.batch_tokens);
      return { name: `η ${lr.toExponential(2)}`, x: pts.map((r) => r.batch_tokens), y: pts.map((r) => r.val_bpb as number), color: COLORS[i % COLORS.length], markers: true };
    });
    files.push(...writePlot(join(dir, `fig2-grid-C${eC(C)}.svg`), lineChart(series, { title: `Fig. 2: bits-per-byte over batch size × learning rate, C = ${eC(C)}`, xLabel: 'batch size (tokens)', yLabel: 'validation bits/byte', logX: true })));
  }
  return files;
}

/** Fig. 3: near-optimal (C, η) and (C, B) points with the fitted laws */
export function hyperFigures(dir: string, h: HyperFit): string[] {
  const Cs = h.near.map((p) => p.compute), lo = Math.min(...Cs), hi = Math.max(...Cs);
  const pts = (y: (p: HyperFit['near'][number]) => number, name: string): Series[] => [
    { name: `near-optimal (≤ ${(h.tolerance * 100).toFixed(2)}% above min)`, x: Cs, y: h.near.map(y), noLine: true, color: '#1f77b4' },
    { name, x: h.best.map((p) => p.compute), y: h.best.map(y), noLine: true, color: '#d62728' },
  ];
  return [
    ...writePlot(join(dir, 'fig3-eta.svg'), lineChart([...pts((p) => p.lr, 'best run'), lawSeries(h.eta, lo, hi, 'η')], { title: 'Fig. 3a: optimal learning rate vs compute', xLabel: 'compute C (FLOPs)', yLabel: 'learning rate', logX: true, logY: true })),
    ...writePlot(join(dir, 'fig3-batch.svg'), lineChart([...pts((p) => p.batch_tokens, 'best run'), lawSeries(h.batch, lo, hi, 'B')], { title: 'Fig. 3b: optimal batch size vs compute', xLabel: 'compute C (FLOPs)', yLabel: 'batch size (tokens)', logX: true, logY: true })),
  ];
}

/** Fig. 4: IsoFLOP curves with their parabolas, and the fitted M_opt(C), D_opt(C) */
export function isoflopFigures(dir: string, f: IsoFlopFit): string[] {
  const curves: Series[] = [];
  f.budgets.forEach((b, i) => {
    const color = COLORS[i % COLORS.length];
    curves.push({ name: `C = ${eC(b.compute)}${b.excluded ? ' (no minimum)' : ''}`, x: b.points.map((p) => p.M), y: b.points.map((p) => p.val_bpb), noLine: true, color });
    if (b.parabola) {
      const xs = logspace(b.points[0].M, b.points[b.points.length - 1].M, 30), p = b.parabola;
      curves.push({ name: '', x: xs, y: xs.map((m) => p.a + p.b * Math.log(m) + p.c * Math.log(m) ** 2), color, dashed: true });
    }
  });
  const good = f.budgets.filter((b) => b.M_opt !== null);
  const Cs = good.map((b) => b.compute), lo = Math.min(...Cs), hi = Math.max(...Cs);
  return [
    ...writePlot(join(dir, 'fig4-isoflop.svg'), lineChart(curves, { title: 'Fig. 4a: IsoFLOP curves', xLabel: 'non-embedding FLOPs/token M', yLabel: 'validation bits/byte', logX: true })),
    ...writePlot(join(dir, 'fig4-model-scale.svg'), lineChart([{ name: 'IsoFLOP minimum', x: Cs, y: good.map((b) => b.M_opt as number), noLine: true }, lawSeries(f.modelScale, lo, hi, 'M_opt')], { title: 'Fig. 4b: optimal model scale vs compute', xLabel: 'compute C (FLOPs)', yLabel: 'M_opt (FLOPs/token)', logX: true, logY: true })),
    ...writePlot(join(dir, 'fig4-data-scale.svg'), lineChart([{ name: 'IsoFLOP minimum', x: Cs, y: good.map((b) => b.D_opt as number), noLine: true }, lawSeries(f.dataScale, lo, hi, 'D_opt')], { title: 'Fig. 4c: optimal data scale vs compute', xLabel: 'compute C (FLOPs)', yLabel: 'D_opt (tokens)', logX: true, logY: true })),
  ];
}

/** Fig. 5: the best run's bits-per-byte of each budget (and the parabola minima), the fitted law extended to the prediction, and the verified run */
export function lossFigure(dir: string, f: IsoFlopFit, prediction: { compute: number; bpb: number } | null, actual: { compute: number; bpb: number } | null): string[] {
  const good = f.budgets.filter((b) => b.bpb_min !== null);
  const Cs = f.budgets.map((b) => b.compute), Cm = good.map((b) => b.compute);
  const hi = Math.max(...Cs, prediction?.compute ?? 0, actual?.compute ?? 0);
  const atMin = lawSeries(f.lossAtMinimum, Math.min(...Cm), hi, 'minima');
  const series: Series[] = [
    { name: 'best run', x: Cs, y: f.budgets.map((b) => b.best_bpb), noLine: true }, { ...lawSeries(f.loss, Math.min(...Cs), hi, 'bpb'), dashed: false },
    { name: 'parabola minimum', x: Cm, y: good.map((b) => b.bpb_min as number), noLine: true, color: '#7f7f7f' }, { ...atMin, color: '#7f7f7f', dashed: true },
  ];
  if (prediction) series.push({ name: 'prediction', x: [prediction.compute], y: [prediction.bpb], noLine: true, color: '#ff7f0e' });
  if (actual) series.push({ name: 'verified run', x: [actual.compute], y: [actual.bpb], noLine: true, color: '#2ca02c' });
  return writePlot(join(dir, 'fig5-loss-vs-compute.svg'), lineChart(series, { title: 'Fig. 5: bits-per-byte vs compute', xLabel: 'compute C (FLOPs)', yLabel: 'validation bits/byte', logX: true, logY: true }));
}

/** Fig. 6 (App. A.2): the loss law with compute counted as M·D, 6N1·D and 6N2·D, and the verified run in each */
export function representationFigure(dir: string, reps: RepresentationFit[]): string[] {
  const series: Series[] = [];
  reps.forEach((r, i) => {
    const color = COLORS[i % COLORS.length];
    const xs = r.points.map((p) => p.compute);
    const hi = Math.max(...xs, r.verify?.compute ?? 0);
    series.push({ name: `${r.representation}·D: ${r.coef.toPrecision(3)}·C^${r.exp.toFixed(3)}`, x: xs, y: r.points.map((p) => p.bpb), noLine: true, color });
    const lx = logspace(Math.min(...xs), hi);
    series.push({ name: '', x: lx, y: lx.map((c) => evalLaw(r, c)), color, dashed: true });
    if (r.verify) series.push({ name: '', x: [r.verify.compute], y: [r.verify.actual], noLine: true, color: '#000' });
  });
  return writePlot(join(dir, 'fig6-representations.svg'), lineChart(series, { title: 'Fig. 6: loss law with compute as M·D, 6N1·D, 6N2·D (black: verified run)', xLabel: 'compute (FLOPs)', yLabel: 'validation bits/byte', logX: true, logY: true }));
}
