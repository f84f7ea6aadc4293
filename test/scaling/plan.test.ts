import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, PlanError } from '../../src/scaling/plan.js';
import { table3, flopsRow } from '../../src/scaling/flops.js';
import { loadConfig } from '../../src/nn/config.js';
import { allocationLaws, DATA_PRESETS, evalLaw, ANCHOR_COMPUTE } from '../../src/scaling/laws.js';
import { searchShape } from '../../src/scaling/shape.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test("Table 3: N1, N2, M and the ratios 6N1/M, 6N2/M as the paper prints them", () => {
  // n_layers, d_model, N1, N2, M, 6N1/M, 6N2/M from the paper (the 32-layer 6N1/M computes as 0.857, printed 0.85)
  const paper: number[][] = [
    [8, 512, 25.2e6, 77.6e6, 352e6, 0.43, 1.32], [12, 768, 84.9e6, 164e6, 963e6, 0.53, 1.02],
    [24, 1024, 302e6, 407e6, 3.02e9, 0.60, 0.81], [24, 2048, 1.21e9, 1.42e9, 9.66e9, 0.75, 0.88],
    [32, 4096, 6.44e9, 6.86e9, 45.1e9, 0.85, 0.91], [40, 5120, 12.6e9, 13.1e9, 85.6e9, 0.88, 0.92],
    [80, 8192, 64.4e9, 65.3e9, 419e9, 0.92, 0.94],
  ];
  const rows = table3();
  assert.equal(rows.length, paper.length);
  rows.forEach((r, i) => {
    const [n, d, N1, N2, M, q1, q2] = paper[i];
    assert.equal(r.n_layer, n); assert.equal(r.d_model, d);
    assert.ok(rel(r.N1, N1) < 0.006 && rel(r.N2, N2) < 0.006 && rel(r.M, M) < 0.006, `row ${n}×${d}`);
    assert.ok(Math.abs(r.ratio_6N1_M - q1) <= 0.0075, `6N1/M ${n}×${d}: ${r.ratio_6N1_M}`);
    assert.ok(Math.abs(r.ratio_6N2_M - q2) <= 0.005, `6N2/M ${n}×${d}: ${r.ratio_6N2_M}`);
  });
});

test('M_exact of 67B (GQA, FFN 22016) is 4.33e11 as the facts sheet derives', () => {
  const r = flopsRow(loadConfig('deepseek-llm-67b'), 4096);
  assert.ok(rel(r.M, 4.973e11) < 1e-3, `M ${r.M}`);
  assert.ok(rel(r.M_exact, 4.33e11) < 2e-3, `M_exact ${r.M_exact}`);
});

test('plan for the 7B budget: η ≈ 4.25e-4, B ≈ 2252 sequences of 4096 (facts §5.2)', () => {
  const C = 4.228e10 * 2e12; // 7B: M · 2T tokens ≈ 8.46e22
  const p = plan({ compute: C });
  assert.ok(rel(p.eta_opt, 4.25e-4) < 0.005, `η ${p.eta_opt}`);
  assert.ok(rel(p.batch_tokens_opt, 9.22e6) < 0.005, `B ${p.batch_tokens_opt}`);
  assert.equal(p.batch_sequences, 2252);
  // eq. 4 at this budget: M_opt ≈ 1.8e11, D_opt ≈ 0.47T (facts §5.3)
  assert.ok(rel(p.M_opt, 1.8e11) < 0.02, `M_opt ${p.M_opt}`);
  assert.ok(rel(p.D_opt, 0.47e12) < 0.02, `D_opt ${p.D_opt}`);
  assert.ok(rel(p.flops.M, p.M_opt) < 0.02, 'the chosen shape is within 2% of M_opt');
  const m = p.model;
  assert.equal(m.hidden_size % 64, 0);
  assert.equal(m.intermediate_size % 256, 0);
  assert.ok([64, 128].includes(m.head_dim as number));
  assert.equal(m.num_attention_heads * (m.head_dim as number), m.hidden_size);
  const ar = m.hidden_size / m.num_hidden_layers;
  assert.ok(ar >= 32 && ar <= 256, `aspect ${ar}`);
  // steps, warmup and boundaries are consistent with the budget
  assert.ok(rel(p.steps * p.batch_tokens * p.flops.M, C) < 0.01);
  assert.equal(p.warmup, 2000);
  assert.deepEqual(p.lr_stages.map((s) => s.step), [0, Math.round(0.8 * p.steps), Math.round(0.9 * p.steps)]);
  assert.ok(rel(p.lr_stages[2].lr, p.eta_opt / 10) < 1e-9);
});

test('plan for the 67B budgets: paper M (η 3.12e-4, ≈5042 seqs) and exact GQA M (η 3.18e-4, ≈4818 seqs)', () => {
  const paperM = flopsRow(loadConfig('deepseek-llm-67b'), 4096).M;
  const p = plan({ compute: paperM * 2e12 });
  assert.ok(rel(p.compute, 9.95e23) < 0.001);
  assert.ok(rel(p.eta_opt, 3.12e-4) < 0.005, `η ${p.eta_opt}`);
  assert.ok(Math.abs(p.batch_sequences - 5042) <= 5, `seqs ${p.batch_sequences}`);
  const q = plan({ compute: flopsRow(loadConfig('deepseek-llm-67b'), 4096).M_exact * 2e12 });
  assert.ok(rel(q.eta_opt, 3.18e-4) < 0.005, `η ${q.eta_opt}`);
  assert.ok(Math.abs(q.batch_sequences - 4818) <= 5, `seqs ${q.batch_sequences}`);
  // the GQA rule: past 32 heads, 8 KV heads
  if (q.model.num_attention_heads > 32) assert.equal(q.model.num_key_value_heads, 8);
});

test('data-quality presets change the allocation exponents, anchored to eq. 4 at the centre of the fitted range', () => {
  const C = 1e21;
  const cur = plan({ compute: C }), hi = plan({ compute: C, data: 'openwebtext2' }), lo = plan({ compute: C, data: 'early' });
  assert.ok(hi.M_opt > cur.M_opt && cur.M_opt > lo.M_opt, 'higher data quality → larger model at the same compute');
  assert.equal(hi.laws.modelScale.exp, DATA_PRESETS.openwebtext2.a);
  const l = allocationLaws(0.6, 0.4);
  assert.ok(rel(evalLaw(l.modelScale, ANCHOR_COMPUTE), cur.laws.modelScale.coef * ANCHOR_COMPUTE ** cur.laws.modelScale.exp) < 1e-9);
  const e = plan({ compute: C, exponents: { a: 0.6, b: 0.4 } });
  assert.equal(e.laws.modelScale.exp, 0.6);
  assert.throws(() => plan({ compute: C, exponents: { a: 0.6, b: 0.4 }, data: 'early' }), PlanError);
});

test('tiny budgets: warmup capped, and a budget below one step is a clear error', () => {
  const p = plan({ compute: 1e13, seqLen: 64, vocab: 257, shape: { headDims: [16, 32], ffnMultiple: 32 } });
  assert.ok(p.warmup < 2000 && p.warmup >= 1);
  assert.throws(() => plan({ compute: 1e6, seqLen: 64, vocab: 257 }), /less than one step/);
  assert.throws(() => plan({ compute: -1 }), /positive/);
});

test('shape search: M closest to the target within the constraints', () => {
  for (const target of [3e8, 1e9, 5e10, 2e11]) {
    const s = searchShape(target, { vocab: 102400, seqLen: 4096 });
    assert.ok(rel(s.M, target) < 0.03, `${target}: ${s.M}`);
  }
});

test('dsllm scaling plan: --json fields other tools rely on, budgets from a model and from hours, clear errors', async () => {
  const { spawnSync } = await import('node:child_process');
  const cli = (...a: string[]) => spawnSync(process.execPath, ['dist/src/cli/index.js', 'scaling', ...a], { encoding: 'utf8' });
  const r = cli('plan', '--compute', '8.46e22', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['eta_opt', 'batch_tokens_opt', 'M_opt', 'D_opt', 'model', 'steps']) assert.ok(k in j, k);
  assert.equal(j.batch_sequences, 2252);
  assert.ok(j.model.num_hidden_layers > 0 && j.model.hidden_size > 0);
  const m = JSON.parse(cli('plan', '--config', 'deepseek-llm-7b', '--tokens', '2e12', '--json').stdout);
  assert.ok(rel(m.compute, 8.46e22) < 0.001 && rel(m.eta_opt, 4.25e-4) < 0.005);
  const h = JSON.parse(cli('plan', '--cpu-hours', '10', '--throughput', '1e10', '--seq', '64', '--vocab', '257', '--json').stdout);
  assert.equal(h.compute, 10 * 3600 * 1e10);
  const text = cli('plan', '--compute', '1e20', '--data', 'openwebtext2');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /M_opt  = .*C\^0\.578/);
  for (const [args, msg] of [[['plan'], /give one budget/], [['plan', '--compute', '-3'], /positive number/], [['plan', '--compute', '1e20', '--exponents', '0.5'], /--exponents must be "a,b"/],
    [['plan', '--compute', '1e20', '--data', 'web'], /--data must be one of early, current, openwebtext2/], [['plan', '--cpu-hours', '2'], /need --throughput/]] as [string[], RegExp][]) {
    const e = cli(...args);
    assert.equal(e.status, 2, `${args.join(' ')}: ${e.stderr}`);
    assert.match(e.stderr, msg);
  }
  const meas = cli('plan', '--cpu-hours', '0.001', '--measure', '--seq', '64', '--vocab', '257', '--json');
  assert.equal(meas.status, 0, meas.stderr);
  const mj = JSON.parse(meas.stdout);
  assert.ok(mj.throughput.flops_per_s > 1e6 && mj.throughput.tokens_per_s > 0);
  assert.ok(rel(mj.compute, 0.001 * 3600 * mj.throughput.flops_per_s) < 1e-9, 'the budget is hours × the measured rate');
  const t3 = cli('flops', '--json');
  assert.equal(JSON.parse(t3.stdout).length, 7);
});
