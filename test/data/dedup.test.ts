// Dedup across sources: precision/recall on the labelled near-duplicate set, the survivor rule,
// determinism, and the dedup rate vs number of sources on a collection with hand-counted overlaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dedupDocs } from '../../src/data/dedup/index.js';
import { exactKey } from '../../src/data/dedup/exact.js';
import { buildLabelledSet, loadBases, scorePairs } from '../../src/data/dedup/labelled.js';
import { findEdges } from '../../src/data/dedup/lsh.js';
import { DEFAULT_MINHASH, MinhashSigner } from '../../src/data/dedup/minhash.js';
import type { Doc } from '../../src/data/types.js';
import { Rng } from '../../src/util/rng.js';
import { sharedDir, uniqueDocs } from './helpers.js';

const shared = sharedDir();

test('labelled near-duplicate set: precision >= 0.99, recall >= 0.9 at Jaccard >= 0.8', { skip: shared ? false : 'shared/data not found beside the repository (set DSLLM_SHARED)' }, () => {
  const set = buildLabelledSet(loadBases(`${shared}/data`, 300, 100), 7);
  assert.ok(set.pairs.filter((p) => p.jaccard >= 0.8).length >= 150, 'enough positives');
  assert.ok(set.pairs.filter((p) => p.jaccard >= 0.8 && p.jaccard < 0.9).length >= 50, 'positives near the threshold');
  const s = new MinhashSigner(DEFAULT_MINHASH);
  const table = { n: set.docs.length, K: s.K, sigs: s.sign(set.docs.map((d) => d.text)), exact: set.docs.map((d) => exactKey(d.text)), rank: new Int32Array(set.docs.length) };
  const edges = findEdges(table, DEFAULT_MINHASH);
  const r = scorePairs(set, edges.map((e) => [e.from, e.to]));
  assert.ok(r.precision >= 0.99, `precision ${r.precision} (false pairs: ${JSON.stringify(r.falsePairs.slice(0, 5))})`);
  assert.ok(r.recall >= 0.9, `recall ${r.recall} (${r.truePositives}/${r.positives})`);
  // and through the one-call API: every removed variant's survivor is its own base
  const docs: Doc[] = set.docs.map((d) => ({ id: d.id, text: d.text, source: 'set', domain: 'set' }));
  const res = dedupDocs(docs, ['set']);
  res.keep.forEach((k, i) => { if (!k) assert.equal(res.survivorId[i].slice(0, 5), set.docs[i].id.slice(0, 5), `${set.docs[i].id} kept ${res.survivorId[i]}`); });
});

test('survivor rule: the earliest source wins, then the smallest id; output independent of input order', () => {
  const [a, b] = uniqueDocs(2, 120, 'q');
  const docs: Doc[] = [
    { id: 'z-late', text: a, source: 'new', domain: 'web' },
    { id: 'b-copy', text: a.toUpperCase(), source: 'old', domain: 'web' },
    { id: 'a-copy', text: a, source: 'old', domain: 'web' },
    { id: 'near', text: b.replace(/ \S+ /, ' changed '), source: 'new', domain: 'web' },
    { id: 'orig', text: b, source: 'old', domain: 'web' },
  ];
  const r = dedupDocs(docs, ['old', 'new']);
  assert.deepEqual(r.keep, [false, false, true, false, true]);
  assert.deepEqual(r.survivorId, ['a-copy', 'a-copy', 'a-copy', 'orig', 'orig']);
  assert.equal(r.stats.exactRemoved, 2);
  assert.equal(r.stats.nearRemoved, 1);
  const rng = new Rng(3);
  for (let rep = 0; rep < 5; rep++) {
    const perm = docs.map((_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) { const j = rng.int(i + 1); [perm[i], perm[j]] = [perm[j], perm[i]]; }
    const r2 = dedupDocs(perm.map((i) => docs[i]), ['old', 'new']);
    perm.forEach((orig, k) => { assert.equal(r2.keep[k], r.keep[orig]); assert.equal(r2.survivorId[k], r.survivorId[orig]); });
  }
});

test('dedup rate rises with the number of sources deduplicated together (hand-counted collection)', () => {
  // Source s (0..3) holds 40 own documents, 4 exact internal repeats of its own documents, and
  // copies of earlier sources' own documents: 10 from each earlier source (half exact, half with one
  // word changed). Removed when the first k sources are deduplicated together:
  //   k sources: 4k internal repeats + 10·(0 + 1 + … + (k−1)) cross copies; documents 44k + 10·k(k−1)/2
  const own = [0, 1, 2, 3].map((s) => uniqueDocs(40, 150, `s${"abcd"[s]}`));  // letter tags: digits simplify to "0"
  const docs: Doc[] = [];
  for (let s = 0; s < 4; s++) {
    own[s].forEach((t, i) => docs.push({ id: `s${s}-own-${i}`, text: t, source: `cc${s}`, domain: 'web' }));
    for (let i = 0; i < 4; i++) docs.push({ id: `s${s}-rep-${i}`, text: own[s][i], source: `cc${s}`, domain: 'web' });
    for (let e = 0; e < s; e++) {
      for (let i = 0; i < 10; i++) {
        const t = own[e][10 + i];
        docs.push({ id: `s${s}-from${e}-${i}`, text: i < 5 ? t : t.replace(/^(\S+ \S+ \S+) \S+/, '$1 replaced'), source: `cc${s}`, domain: 'web' });
      }
    }
  }
  const r = dedupDocs(docs, ['cc0', 'cc1', 'cc2', 'cc3']);
  const expect = [1, 2, 3, 4].map((k) => ({ docs: 44 * k + (10 * k * (k - 1)) / 2, removed: 4 * k + (10 * k * (k - 1)) / 2 }));
  assert.deepEqual(r.stats.curve.map((c) => ({ docs: c.docs, removed: c.removed })), expect);
  for (let k = 1; k < 4; k++) assert.ok(r.stats.curve[k].rate > r.stats.curve[k - 1].rate, 'rate rises');
  // exact: 16 internal repeats + 5 exact cross copies per (earlier, later) source pair (6 pairs); the
  // edited copy of one original is identical in every later source, so only its first appearance is a
  // near duplicate (3 originals' sources have later sources: cc0 → 3 copies, cc1 → 2, cc2 → 1, 5 each)
  assert.equal(r.stats.nearRemoved, 5 * 3);
  assert.equal(r.stats.exactRemoved, 16 + 5 * 6 + 5 * (2 + 1));
});
