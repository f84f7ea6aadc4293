// Remixing: factors worked out by hand, deterministic copies, proportions reached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copiesOf, hash01, planRemix } from '../../src/data/remix.js';

test('plan: factors by hand', () => {
  // web 900, code 100 → targets 50/50 of 1000: web 500/900, code 500/100
  const p = planRemix({ web: 900, code: 100 }, { targets: { web: 1, code: 1 } });
  assert.ok(Math.abs(p.factor.web - 5 / 9) < 1e-12);
  assert.equal(p.factor.code, 5);
  const q = planRemix({ web: 900, code: 100 }, { targets: { web: 0.8, code: 0.2 }, total: 500 });
  assert.ok(Math.abs(q.factor.web - 400 / 900) < 1e-12);
  assert.equal(q.factor.code, 1);
  assert.throws(() => planRemix({ web: 1, math: 2 }, { targets: { web: 1 } }), /groups math have data but no target/);
  assert.throws(() => planRemix({ web: 1 }, { targets: { web: 1, books: 1 } }), /'books' has target 1 but no data/);
});

test('copies: deterministic per (seed, id), proportions reached on 20,000 documents', () => {
  assert.equal(copiesOf('doc-1', 2.5, 3), copiesOf('doc-1', 2.5, 3));
  assert.ok(hash01(1, 'remix', 'a') !== hash01(2, 'remix', 'a'));
  const ids = Array.from({ length: 20000 }, (_, i) => `d${i}`);
  for (const f of [0.3, 1, 2.25]) {
    const n = ids.reduce((a, id) => a + copiesOf(id, f, 42), 0);
    const expect = f * ids.length, sd = Math.sqrt(ids.length * (f % 1) * (1 - (f % 1)));
    assert.ok(Math.abs(n - expect) <= 4 * sd + 1e-9, `factor ${f}: ${n} copies, expected ${expect} ± ${4 * sd}`);
    for (const id of ids.slice(0, 200)) { const c = copiesOf(id, f, 42); assert.ok(c === Math.floor(f) || c === Math.floor(f) + 1); }
  }
});
