import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandRuns, parseSpec } from '../../src/scaling/spec.js';
import { writeReport } from '../../src/scaling/report.js';
import { fitPowerLaw, type RunResult } from '../../src/scaling/fit.js';
import { evalLaw } from '../../src/scaling/laws.js';
import { Rng } from '../../src/util/rng.js';

const CLI = 'dist/src/cli/index.js';
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('sweep specs: bad input gives clear errors', () => {
  const grid = { budgets: [1e9, 2e9], model: { n_layer: 1, d_model: 16 }, batch_tokens: [128, 256], lr: [1e-2, 3e-2] };
  assert.throws(() => parseSpec({ grid: { ...grid, batch_tokens: [128], lr: [1e-2] } }, 's'), /1 batch size × 1 learning rate; a grid needs at least 2 of each/);
  assert.throws(() => parseSpec({ grid: { ...grid, budgets: [1e3, 1e9] } }, 's') && expandRuns(parseSpec({ grid: { ...grid, budgets: [1e3, 1e9] } }, 's')), /budget C=1\.000e\+3 is smaller than one step of model 1×16/);
  assert.throws(() => expandRuns(parseSpec({ isoflop: { budgets: [1e4] } }, 's')), /smaller than one step/);
  assert.throws(() => parseSpec({ grid, bogus: 1 }, 'spec.yaml'), /spec\.yaml: .*bogus/);
  assert.throws(() => parseSpec({}, 's'), /nothing to run/);
  assert.throws(() => parseSpec({ isoflop: { budgets: [1e9], splits: 1 } }, 's'), /isoflop\.splits/);
  const r = cli('scaling', 'sweep', '/no/such/spec.yaml');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read/);
});

test('IsoFLOP splits: log-spaced shapes around M_opt, distinct, same budget', () => {
  const s = parseSpec({ seq_len: 64, isoflop: { budgets: [1e12, 1e13], splits: 8, span: 4 } }, 's');
  const jobs = expandRuns(s);
  for (const C of [1e12, 1e13]) {
    const mine = jobs.filter((j) => j.compute === C);
    assert.ok(mine.length >= 6, `${mine.length} splits at ${C}`);
    assert.equal(new Set(mine.map((j) => j.M)).size, mine.length);
    for (const j of mine) assert.ok(Math.abs(j.steps * j.batch_tokens * j.M - C) / C < 0.2, `${j.id} spends its budget`);
    const Ms = mine.map((j) => j.M).sort((p, q) => p - q);
    for (let i = 1; i < Ms.length; i++) assert.ok(Ms[i] / Ms[i - 1] >= 1.15, `sizes ${Ms[i - 1]} and ${Ms[i]} are at least 15% apart`);
  }
});

test('tiny end-to-end sweep: train, cache, resume, fit, report (diverged runs left out with the reason)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsllm-sweep-'));
  const spec = {
    name: 'ci', max_bytes: 200000, seq_len: 32, eval_tokens: 4096,
    grid: { budgets: [5e8, 1e9], model: { n_layer: 1, d_model: 16 }, batch_tokens: [128, 256], lr: [1e-2, 1000] },
    isoflop: { budgets: [5e8, 1e9, 2e9], models: [{ n_layer: 1, d_model: 16 }, { n_layer: 1, d_model: 32 }, { n_layer: 2, d_model: 32 }], lr: 1e-2, batch_tokens: 256 },
  };
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  const out = join(dir, 'sweep');
  const r = cli('scaling', 'sweep', join(dir, 'spec.json'), '--out', out, '--jobs', '2');
  assert.equal(r.status, 0, r.stderr);
  const runs = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunResult);
  assert.equal(runs.length, 17);
  const failed = runs.filter((x) => x.status !== 'ok');
  assert.ok(failed.length >= 2 && failed.every((x) => x.lr === 1000 && /diverged|non-finite|NaN/.test(x.reason ?? '')), JSON.stringify(failed.map((f) => f.reason)));
  for (const x of runs.filter((x) => x.status === 'ok')) {
    assert.ok((x.val_bpb as number) > 0.5 && (x.val_bpb as number) < 8.5, `${x.id}: ${x.val_bpb} bits/byte`);
    assert.ok(existsSync(join(out, 'runs', x.id, 'train', 'log.jsonl')), 'the curve is kept');
    assert.ok(!existsSync(join(out, 'runs', x.id, 'train', 'checkpoints')), 'weights are dropped');
  }
  // same config, B, η and budget in the grid and the IsoFLOP profile: one of them continues a shorter run's
  // first LR stage, the other trains from scratch; the multi-step schedule makes them the same run
  const a = runs.find((x) => x.id === 'grid-C1e9-L1d16-B256-lr1e-2'), b = runs.find((x) => x.id === 'isoflop-C1e9-L1d16-B256-lr1e-2');
  assert.equal(a?.val_bpb, b?.val_bpb);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /## Runs left out of the fits/);
  for (const f of failed) assert.ok(report.includes(f.id));
  assert.match(report, /## Fitted laws vs the paper/);
  const fits = JSON.parse(readFileSync(join(out, 'fits.json'), 'utf8'));
  assert.equal(fits.excluded.length, failed.length);
  assert.ok(fits.isoflop || /IsoFLOP|M_opt/.test(fits.isoflop_error), 'IsoFLOP laws fitted or the reason given');
  assert.ok(existsSync(join(out, 'fig2-grid-C1.0e9.svg')));
  // rerun: everything cached
  const again = cli('scaling', 'sweep', join(dir, 'spec.json'), '--out', out);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /17 runs cached.*0 to train/);
  // a changed data setting refuses to mix with the cached runs
  writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...spec, seq_len: 16 }));
  const mixed = cli('scaling', 'sweep', join(dir, 'spec.json'), '--out', out);
  assert.equal(mixed.status, 2);
  assert.match(mixed.stderr, /different "seq_len"/);
});

test('report on planted results: every figure, fitted exponents next to the paper, prediction', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsllm-report-'));
  const rng = new Rng(11);
  const runs: RunResult[] = [];
  const base = { n_layer: 1, d_model: 64, steps: 10, status: 'ok' as const, val_loss: 1, wall_s: 1 };
  const E = 0.8, A = 400, B = 900, al = 0.3, be = 0.33, a = be / (al + be), G = Math.pow((al * A) / (be * B), 1 / (al + be));
  for (const C of [1e15, 1e16, 1e17, 1e18]) {
    for (let i = 0; i < 8; i++) {
      const M = G * C ** a * Math.pow(4, (2 * i) / 7 - 1);
      const L = (E + A / M ** al + B / (C / M) ** be) * (1 + 0.0005 * rng.normal());
      runs.push({ ...base, id: `iso-${C}-${i}`, kind: 'isoflop', compute: C, M, tokens: C / M, batch_tokens: 1e4, lr: 1e-3, val_bpb: L });
    }
    for (let i = -2; i <= 2; i++) for (let j = -2; j <= 2; j++) {
      const eta = 0.3118 * C ** -0.125 * Math.exp(0.2 * i), bt = 0.292 * C ** 0.3271 * Math.exp(0.2 * j);
      runs.push({ ...base, id: `grid-${C}-${i}-${j}`, kind: 'grid', compute: C, M: 1e6, tokens: C / 1e6, batch_tokens: bt, lr: eta, val_bpb: 1.2 * (1 + 0.002 * (i * i + j * j)) });
    }
  }
  runs.push({ ...base, id: 'nan-run', kind: 'isoflop', compute: 1e15, M: 1e5, tokens: 1e10, batch_tokens: 1e4, lr: 1e-3, val_bpb: NaN });
  writeFileSync(join(dir, 'results.jsonl'), runs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const { fits, files } = writeReport(dir);
  for (const f of ['fig2-grid-C1.0e15.svg', 'fig3-eta.svg', 'fig3-batch.svg', 'fig4-isoflop.svg', 'fig4-model-scale.svg', 'fig4-data-scale.svg', 'fig5-loss-vs-compute.svg', 'fig6-representations.svg', 'report.md', 'fits.json']) {
    assert.ok(files.includes(join(dir, f)) && existsSync(join(dir, f)), f);
  }
  assert.ok(Math.abs((fits.isoflop?.modelScale.exp as number) - a) / a < 0.02);
  assert.ok(Math.abs((fits.hyper?.eta.exp as number) + 0.125) < 0.0025);
  assert.ok(fits.prediction && fits.prediction.compute === 4e18 && fits.prediction.lo < fits.prediction.bpb);
  // the headline loss law runs through each budget's best run; the parabola minima have their own law
  for (const b of fits.isoflop!.budgets) assert.equal(b.best_bpb, Math.min(...b.points.map((q) => q.val_bpb)));
  const best = fits.isoflop!.budgets.map((b) => b.best_bpb), Cs = fits.isoflop!.budgets.map((b) => b.compute);
  const direct = fitPowerLaw(Cs, best, 'best runs');
  assert.ok(Math.abs(fits.isoflop!.loss.exp - direct.exp) < 1e-12 && Math.abs(fits.isoflop!.loss.coef / direct.coef - 1) < 1e-12);
  Cs.forEach((C, i) => assert.ok(Math.abs(evalLaw(fits.isoflop!.loss, C) / best[i] - 1) < 0.03, `best-run law at C=${C}: ${evalLaw(fits.isoflop!.loss, C)} vs ${best[i]}`));
  assert.ok(fits.predictionAtMinimum && fits.predictionAtMinimum.bpb < fits.prediction.bpb, 'on these parabolic profiles the minima lie below the best runs');
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(md, /\| M_opt\(C\) \| .* \| 0\.1715 · C\^0\.5243 \|/);
  assert.match(md, /nan-run \| validation bits-per-byte is null/);
  assert.match(md, /## Prediction/);
  assert.match(readFileSync(join(dir, 'fig4-isoflop.svg'), 'utf8'), /<circle/);
});

test('verify: trains the predicted budget with the fitted M_opt shape and records predicted vs actual', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsllm-verify-'));
  const spec = parseSpec({ name: 'v', max_bytes: 200000, seq_len: 32, eval_tokens: 2048, isoflop: { budgets: [2e8, 4e8, 8e8], lr: 1e-2, batch_tokens: 256 } }, 'v');
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));
  // planted IsoFLOP results (no training): minima at M ≈ 3e4·(C/4e8)^0.5, bits-per-byte falling with C
  const runs: RunResult[] = [];
  for (const C of [2e8, 4e8, 8e8]) {
    const Ms = 3e4 * Math.sqrt(C / 4e8);
    for (const f of [0.25, 0.5, 1, 2, 4]) {
      const M = Ms * f;
      runs.push({ id: `iso-${C}-${f}`, kind: 'isoflop', compute: C, M, n_layer: 1, d_model: 16, batch_tokens: 256, lr: 1e-2, steps: 1, tokens: C / M, status: 'ok', val_bpb: 6 * (C / 1e8) ** -0.05 + 0.05 * Math.log(f) ** 2, val_loss: 1, wall_s: 1 });
    }
  }
  writeFileSync(join(dir, 'results.jsonl'), runs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const r = cli('scaling', 'verify', dir, '--factor', '2');
  assert.equal(r.status, 0, r.stderr);
  const v = JSON.parse(r.stdout);
  assert.equal(v.compute, 1.6e9);
  assert.ok(Math.abs(v.predicted_bpb - 6 * 16 ** -0.05) / v.predicted_bpb < 0.01, `predicted ${v.predicted_bpb}`);
  assert.ok(v.actual_bpb > 0.5 && v.actual_bpb < 8.5, `actual ${v.actual_bpb}`);
  assert.ok(Math.abs(v.rel_error - (v.actual_bpb - v.predicted_bpb) / v.predicted_bpb) < 1e-12);
  // the planted profiles are symmetric in ln M around a sampled size, so the parabola minima equal the best runs
  assert.ok(Math.abs(v.predicted_at_minimum_bpb - v.predicted_bpb) / v.predicted_bpb < 1e-6, `at minimum ${v.predicted_at_minimum_bpb}`);
  assert.ok(Math.abs(v.rel_error_at_minimum - (v.actual_bpb - v.predicted_at_minimum_bpb) / v.predicted_at_minimum_bpb) < 1e-12);
  assert.ok(existsSync(join(dir, 'verify.json')) && existsSync(join(dir, 'fig5-loss-vs-compute.svg')));
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(md, /Verified: a model of M = .* predicted vs actual differ by/);
  assert.match(md, /\| 6N1·D \| .* \| .*% \|/);
});

test('the example sweep specs parse and expand', async () => {
  const { loadSpec } = await import('../../src/scaling/spec.js');
  for (const f of ['tiny.yaml', 'corpus.yaml']) {
    const s = loadSpec(join('examples', 'scaling', f));
    const jobs = expandRuns(s);
    assert.ok(jobs.length > 10, f);
    assert.ok(new Set(jobs.filter((j) => j.kind === 'isoflop').map((j) => j.compute)).size >= 3, `${f}: ≥ 3 IsoFLOP budgets`);
  }
});

test('first-stage reuse: runs that differ only in budget chain by steps and share the shortest warmup', async () => {
  const { reuseChains } = await import('../../src/scaling/sweep.js');
  const s = parseSpec({ seq_len: 32, grid: { budgets: [1e9, 2e9, 4e9], model: { n_layer: 1, d_model: 16 }, batch_tokens: [128, 256], lr: [1e-2, 2e-2] } }, 's');
  const jobs = expandRuns(s);
  const chains = reuseChains(jobs);
  assert.equal(chains.length, 4, 'one chain per (B, η)');
  for (const c of chains) {
    assert.deepEqual(c.map((j) => j.compute), [1e9, 2e9, 4e9]);
    assert.ok(c.every((j) => j.warmup === c[0].warmup && j.batch_tokens === c[0].batch_tokens && j.lr === c[0].lr));
    assert.ok(Math.round(0.8 * c[0].steps) > c[0].warmup);
  }
  // different B/η per budget (factors of the laws): nothing to share
  const f = expandRuns(parseSpec({ seq_len: 32, grid: { budgets: [1e9, 2e9], model: { n_layer: 1, d_model: 16 }, batch_factors: [1, 2], lr_factors: [1, 2] } }, 's'));
  assert.equal(reuseChains(f).length, f.length);
});
