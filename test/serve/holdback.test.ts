// StopHoldback against the plain definition: what reaches the client, over any split of the text into
// token pieces, is what an engine that checks stop strings after each token outputs, and nothing past
// that ever goes out, even for a moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopHoldback } from '../../src/serve/holdback.js';
import { Rng } from '../util.js';

/** what an engine outputs: after each token, the text is cut at the first stop string it now holds */
function reference(pieces: string[], stops: string[]): string {
  let text = '';
  for (const p of pieces) {
    text += p;
    const hits = stops.map((s) => text.indexOf(s)).filter((i) => i >= 0);
    if (hits.length > 0) return text.slice(0, Math.min(...hits));
  }
  return text;
}

test('holdback: streamed text equals the text before the first stop string, for random splits', () => {
  const rng = new Rng(7);
  const alphabet = 'ab c\né';
  for (let trial = 0; trial < 2000; trial++) {
    const len = 1 + rng.int(30);
    let text = '';
    for (let i = 0; i < len; i++) text += alphabet[rng.int(alphabet.length)];
    const stops = Array.from({ length: 1 + rng.int(3) }, () => {
      const a = rng.int(text.length), b = a + 1 + rng.int(4);
      return rng.uniform() < 0.7 ? text.slice(a, b) : 'zz';
    });
    const pieces: string[] = [];
    for (let i = 0; i < text.length;) {
      const k = 1 + rng.int(3);
      pieces.push(text.slice(i, i + k));
      i += k;
    }
    const expected = reference(pieces, stops);
    const h = new StopHoldback(stops);
    let out = '';
    pieces.forEach((piece, i) => {
      out += h.push({ id: i, text: piece }).text;
      assert.ok(expected.startsWith(out), `${JSON.stringify(pieces)} ${JSON.stringify(stops)}: sent ${JSON.stringify(out)}`);
    });
    out += h.finish(expected).text;
    assert.equal(out, expected, `${JSON.stringify(text)} stops ${JSON.stringify(stops)}`);
  }
});

test('holdback: token events go out with their text; a held-back token waits', () => {
  const h = new StopHoldback(['END']);
  assert.deepEqual(h.push({ id: 1, text: 'ok ' }), { text: 'ok ', tokens: [{ id: 1, text: 'ok ' }] });
  assert.deepEqual(h.push({ id: 2, text: 'E' }), { text: '', tokens: [] });
  const r = h.push({ id: 3, text: 'x' });
  assert.equal(r.text, 'Ex');
  assert.deepEqual(r.tokens.map((t) => t.id), [2, 3]);
  const s = h.push({ id: 4, text: 'EN' });
  assert.equal(s.text, '');
  assert.equal(h.push({ id: 5, text: 'D!' }).text, '');
  assert.equal(h.finish('ok Ex').text, '');
});

test('holdback: without stop strings everything goes out at once', () => {
  const h = new StopHoldback([]);
  assert.equal(h.push({ id: 1, text: 'abc' }).text, 'abc');
  assert.equal(h.push({ id: 2, text: '' }).tokens.length, 1);
  assert.equal(h.finish('abc').text, '');
});
