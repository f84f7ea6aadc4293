import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { fitHyper, fitIsoFlop, fitPowerLaw, predict, usableRuns, type RunResult } from '../../src/scaling/fit.js';
import { fitLine, tQuantile, tCdf } from '../../src/scaling/stats.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const logspace = (lo: number, hi: number, n: number) => Array.from({ length: n }, (_, i) => lo * Math.pow(hi / lo, i / (n - 1)));

test('Student t quantiles match tables', () => {
  // two-sided 95%: ν=1 12.706, ν=2 4.303, ν=5 2.571, ν=30 2.042
  for (const [nu, t] of [[1, 12.706], [2, 4.303], [5, 2.571], [30, 2.042]]) assert.ok(Math.abs(tQuantile(0.975, nu) - t) < 2e-3, `ν=${nu}`);
  assert.ok(Math.abs(tCdf(0, 7) - 0.5) < 1e-12);
});

test('power laws recover planted coefficients and exponents from noisy data within 2%, inside their intervals', () => {
  const rng = new Rng(7);
  const C = logspace(1e17, 3e20, 40);
  for (const [coef, exp] of [[0.3118, -0.125], [0.292, 0.3271], [0.1715, 0.5243], [5.8316, 0.4757]]) {
    const y = C.map((c) => coef * Math.pow(c, exp) * Math.exp(0.003 * rng.normal()));
    const f = fitPowerLaw(C, y, 'planted');
    assert.ok(rel(f.exp, exp) < 0.02, `exp ${f.exp} vs ${exp}`);
    assert.ok(rel(f.coef, coef) < 0.02, `coef ${f.coef} vs ${coef}`);
    assert.ok(f.expCI[0] <= exp && exp <= f.expCI[1], `exp CI ${f.expCI} misses ${exp}`);
    assert.ok(f.coefCI[0] <= coef && coef <= f.coefCI[1], `coef CI ${f.coefCI} misses ${coef}`);
    const p = predict(f, 1e22);
    assert.ok(p.lo < p.value && p.value < p.hi && rel(p.value, coef * 1e22 ** exp) < 0.02);
  }
});

test('too few points: the error says how many are needed', () => {
  assert.throws(() => fitLine([1, 2], [1, 2]), /2 usable points; .* needs at least 3/);
  assert.throws(() => fitPowerLaw([1, 1, 1], [1, 2, 3], 'x'), /same x/);
  assert.throws(() => fitPowerLaw([1, 2, -3], [1, 2, 3], 'x'), /not positive/);
});

function run(id: string, kind: RunResult['kind'], C: number, M: number, lr: number, B: number, bpb: number | null, status: RunResult['status'] = 'ok', reason?: string): RunResult {
  return { id, kind, compute: C, M, n_layer: 1, d_model: 64, batch_tokens: B, lr, steps: 1, tokens: C / M, status, ...(reason ? { reason } : {}), val_bpb: bpb, val_loss: bpb, wall_s: 0 };
}

test('IsoFLOP minima recover planted allocation exponents (Chinchilla-form loss) within 2%', () => {
  // L(M, D) = E + A/M^α + B/D^β, with C = M·D: the optimum is M_opt = G·C^(β/(α+β))
  const E = 0.8, A = 400, B = 900, alpha = 0.3, beta = 0.33;
  const a = beta / (alpha + beta);
  const G = Math.pow((alpha * A) / (beta * B), 1 / (alpha + beta));
  const rng = new Rng(3);
  const runs: RunResult[] = [];
  for (const C of logspace(1e15, 1e19, 8)) {
    const Mstar = G * Math.pow(C, a);
    for (const f of logspace(Mstar / 4, Mstar * 4, 9)) {
      const M = f * (1 + 0.02 * rng.normal());
      const L = E + A / M ** alpha + B / (C / M) ** beta;
      runs.push(run(`iso-${C}-${M}`, 'isoflop', C, M, 1e-3, 1e4, L * (1 + 0.0005 * rng.normal())));
    }
  }
  runs.push(run('nan', 'isoflop', 1e15, 1e5, 1e-3, 1e4, NaN), run('crash', 'isoflop', 1e15, 1e5, 1e-3, 1e4, null, 'failed', 'exit code 1: out of memory'));
  const { ok, excluded } = usableRuns(runs);
  assert.deepEqual(excluded.map((e) => e.id), ['nan', 'crash']);
  assert.match(excluded[0].reason, /NaN/);
  assert.match(excluded[1].reason, /out of memory/);
  const fit = fitIsoFlop(ok);
  assert.ok(rel(fit.modelScale.exp, a) < 0.02, `a ${fit.modelScale.exp} vs ${a}`);
  assert.ok(rel(fit.dataScale.exp, 1 - a) < 0.02, `b ${fit.dataScale.exp} vs ${1 - a}`);
  assert.ok(rel(fit.modelScale.coef, G) < 0.1, `M_base ${fit.modelScale.coef} vs ${G}`);
  assert.ok(fit.loss.exp < 0, 'loss falls with compute');
});

test('IsoFLOP: budgets without a minimum are excluded with a reason; fewer than 3 is an error naming the need', () => {
  const runs = [1e12, 1e13].flatMap((C) => [1e5, 2e5, 4e5].map((M) => run(`${C}-${M}`, 'isoflop', C, M, 1e-3, 1e3, 1 + (Math.log(M) - Math.log(2e5)) ** 2)));
  runs.push(...[1e5, 2e5, 4e5].map((M) => run(`down-${M}`, 'isoflop', 1e14, M, 1e-3, 1e3, 1 - (Math.log(M) - Math.log(2e5)) ** 2)));
  assert.throws(() => fitIsoFlop(runs), /2 budgets with an IsoFLOP minimum; the laws need at least 3 .*opens downward/);
});

test('near-optimal (B, η) points recover planted η_opt(C), B_opt(C) laws', () => {
  // a loss bowl in (ln η, ln B) around the planted optimum at each budget, on a dense symmetric grid
  const runs: RunResult[] = [];
  for (const C of logspace(1e17, 2e19, 6)) {
    const eta = 0.3118 * C ** -0.125, bt = 0.292 * C ** 0.3271;
    for (let i = -6; i <= 6; i++) for (let j = -6; j <= 6; j++) {
      const e = eta * Math.exp(i * 0.1), b = bt * Math.exp(j * 0.1);
      runs.push(run(`g${C}-${i}-${j}`, 'grid', C, 1e8, e, b, 1.5 * (1 + 0.01 * ((i * 0.1) ** 2 + (j * 0.1) ** 2))));
    }
  }
  const f = fitHyper(runs);
  assert.ok(f.near.length > 6 && f.near.length < runs.length / 2, `${f.near.length} near-optimal`);
  assert.ok(rel(f.eta.exp, -0.125) < 0.02 && rel(f.eta.coef, 0.3118) < 0.02, `η ${f.eta.coef}·C^${f.eta.exp}`);
  assert.ok(rel(f.batch.exp, 0.3271) < 0.02 && rel(f.batch.coef, 0.292) < 0.02, `B ${f.batch.coef}·C^${f.batch.exp}`);
  assert.throws(() => fitHyper(runs.filter((r) => r.compute === runs[0].compute)), /1 compute budget; a law in C needs at least 2/);
});

test('compute representations: M, 6N1, 6N2 per token of a byte-level shape', async () => {
  const { flopsPerTokenOf } = await import('../../src/scaling/representations.js');
  const r = { n_layer: 2, d_model: 32, M: 72 * 2 * 32 * 32 + 12 * 2 * 32 * 64 };
  assert.equal(flopsPerTokenOf(r, 'M'), r.M);
  assert.equal(flopsPerTokenOf(r, '6N1'), 6 * 12 * 2 * 32 * 32);
  assert.equal(flopsPerTokenOf(r, '6N2'), 6 * (12 * 2 * 32 * 32 + 257 * 32));
});
