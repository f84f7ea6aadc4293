import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineChart } from '../../src/util/svg-plot.js';

test('charts: scatter markers, and a series flat to rounding draws instead of looping forever', () => {
  const svg = lineChart([{ name: 'pts', x: [1e9, 1e10], y: [0.010000000000000005, 0.01], noLine: true }], { title: 't', xLabel: 'x', yLabel: 'y', logX: true, logY: true });
  assert.equal(svg.match(/<circle/g)?.length, 2);
  assert.ok(!svg.includes('<polyline'));
  const both = lineChart([{ name: 'a', x: [1, 2, 3], y: [1, 2, 3], markers: true }, { name: '', x: [1, 3], y: [1, 3], dashed: true }], { title: 't', xLabel: 'x', yLabel: 'y' });
  assert.equal(both.match(/<circle/g)?.length, 3);
  assert.equal(both.match(/<polyline/g)?.length, 2);
  assert.equal(both.match(/<rect x=/g)?.length, 1, 'unnamed series stay out of the legend');
});

test('dsllm scaling sweep: a one-point grid and an impossible budget are one-line errors (exit 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsllm-badspec-'));
  const cases: [object, RegExp][] = [
    [{ grid: { budgets: [1e9], batch_tokens: [256], lr: [1e-2] } }, /1 batch size × 1 learning rate; a grid needs at least 2 of each/],
    [{ isoflop: { budgets: [1e5, 1e9], models: [{ n_layer: 1, d_model: 16 }, { n_layer: 1, d_model: 32 }, { n_layer: 2, d_model: 32 }] } }, /budget C=1\.000e\+5 is smaller than one step of model 1×16/],
    [{ isoflop: { budgets: ['lots'] } }, /isoflop\.budgets\.0/],
  ];
  for (const [spec, msg] of cases) {
    const f = join(dir, 'spec.yaml');
    writeFileSync(f, JSON.stringify(spec));
    const r = spawnSync(process.execPath, ['dist/src/cli/index.js', 'scaling', 'sweep', f, '--out', join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack');
  }
});
