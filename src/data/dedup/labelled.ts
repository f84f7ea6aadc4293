// A labelled near-duplicate set built from real text (TinyStories stories, Tang poems): each family
// is a base document and one planted variant — an edit (word/character substitutions, deletions,
// insertions), a reorder (sentences moved), added boilerplate (navigation/footer lines shared by
// many documents) or an exact copy (case and spacing changed). Every pair's label is its exact
// Jaccard similarity of 5-word shingle sets, computed with plain Sets (not MinHash).
//
// Positives have Jaccard ≥ 0.8. Negatives are planted at Jaccard ≤ 0.6 plus every cross-family pair.
// Variants that land in (0.6, 0.8) — the LSH transition band, where a 112-hash MinHash cannot tell
// 0.75 from 0.8 — are left out of the precision/recall set; `curve` in the bench reports detection
// rates across the whole range, that band included.
import { readFileSync } from 'node:fs';
import { Rng } from '../../util/rng.js';
import { jaccard, shingleSet, simplifyText } from './normalize.js';

export interface LabelledDoc { id: string; text: string; family: number; kind: 'base' | 'edit' | 'reorder' | 'boilerplate' | 'exact' }
export interface LabelledPair { a: number; b: number; jaccard: number }
export interface LabelledSet { docs: LabelledDoc[]; /** within-family pairs with their exact Jaccard */ pairs: LabelledPair[]; /** variants dropped for landing in the transition band */ grayDropped: number }

const BOILER = ('Home | About us | Contact | Privacy policy | Terms of use | Subscribe to our newsletter | ' +
  'Follow us on social media | Copyright all rights reserved | Share this page | Related articles | Back to top').split(' ');

function words(text: string, cjk: boolean): string[] {
  return cjk ? [...text] : text.split(/\s+/).filter((w) => w);
}

function join(ws: string[], cjk: boolean): string { return ws.join(cjk ? '' : ' '); }

function edit(ws: string[], rate: number, vocab: string[], rng: Rng): string[] {
  const out: string[] = [];
  for (const w of ws) {
    if (rng.uniform() >= rate) { out.push(w); continue; }
    const u = rng.uniform();
    if (u < 0.6) out.push(vocab[rng.int(vocab.length)]);
    else if (u < 0.8) continue;
    else out.push(w, vocab[rng.int(vocab.length)]);
  }
  return out;
}

function reorder(text: string, rng: Rng): string {
  const sents = text.match(/[^.!?。！？]+[.!?。！？]*/g) ?? [text];
  if (sents.length < 3) return text;
  const i = rng.int(sents.length), j = rng.int(sents.length);
  [sents[i], sents[j]] = [sents[j], sents[i]];
  return sents.join(' ');
}

function boilerplate(text: string, n: number, rng: Rng): string {
  const start = rng.int(BOILER.length);
  const b = Array.from({ length: n }, (_, k) => BOILER[(start + k) % BOILER.length]).join(' ');
  return rng.uniform() < 0.5 ? `${b}\n${text}` : `${text}\n${b}`;
}

/** Base documents from ../shared/data, pairwise Jaccard < 0.5 (so cross-family pairs are true negatives). */
export function loadBases(dataDir: string, nEn: number, nZh: number): Array<{ text: string; cjk: boolean }> {
  const en = readFileSync(`${dataDir}/corpus/en/tinystories_sample.txt`, 'utf8').split('<|endoftext|>')
    .map((s) => s.trim()).filter((s) => s.split(/\s+/).length >= 80);
  const zh = readFileSync(`${dataDir}/corpus/zh/tang_poems.txt`, 'utf8').split('\n')
    .map((s) => s.trim()).filter((s) => [...s].length >= 80);
  const picked: Array<{ text: string; cjk: boolean; sh: Set<string> }> = [];
  const take = (pool: string[], n: number, cjk: boolean) => {
    let got = 0;
    for (const t of pool) {
      if (got >= n) break;
      const sh = shingleSet(simplifyText(t), 5);
      if (picked.some((p) => p.cjk === cjk && jaccard(p.sh, sh) >= 0.5)) continue;
      picked.push({ text: t, cjk, sh }); got++;
    }
  };
  take(en, nEn, false);
  take(zh, nZh, true);
  return picked.map(({ text, cjk }) => ({ text, cjk }));
}

/**
 * Builds the set. Deterministic for a seed.
 * @example buildLabelledSet(loadBases('../shared/data', 300, 100), 7)
 */
export function buildLabelledSet(bases: ReadonlyArray<{ text: string; cjk: boolean }>, seed: number): LabelledSet {
  const rng = new Rng(seed);
  const vocabEn = [...new Set(bases.filter((b) => !b.cjk).flatMap((b) => words(b.text, false)))];
  const vocabZh = [...new Set(bases.filter((b) => b.cjk).flatMap((b) => words(b.text, true)))];
  const docs: LabelledDoc[] = [], pairs: LabelledPair[] = [];
  let gray = 0;
  bases.forEach((base, f) => {
    const ws = words(base.text, base.cjk), vocab = base.cjk ? vocabZh : vocabEn;
    const shBase = shingleSet(simplifyText(base.text), 5);
    const positive = rng.uniform() < 0.6;
    const kinds: LabelledDoc['kind'][] = positive ? ['edit', 'edit', 'reorder', 'boilerplate', 'exact'] : ['edit', 'edit', 'boilerplate'];
    const kind = kinds[rng.int(kinds.length)];
    let variant: string;
    for (let attempt = 0; ; attempt++) {
      if (kind === 'exact') variant = base.text.toUpperCase().replace(/ /g, '  ');
      else if (kind === 'reorder') variant = reorder(base.text, rng);
      else if (kind === 'boilerplate') variant = boilerplate(base.text, Math.max(1, Math.round(ws.length * (positive ? 0.02 + 0.08 * rng.uniform() : 0.5 + rng.uniform()))), rng);
      else variant = join(edit(ws, positive ? 0.04 * rng.uniform() : 0.08 + 0.25 * rng.uniform(), vocab, rng), base.cjk);
      const j = jaccard(shBase, shingleSet(simplifyText(variant), 5));
      if (j >= 0.8 || j <= 0.6) {
        const a = docs.length;
        docs.push({ id: `f${String(f).padStart(4, '0')}-base`, text: base.text, family: f, kind: 'base' });
        docs.push({ id: `f${String(f).padStart(4, '0')}-${kind}`, text: variant, family: f, kind });
        pairs.push({ a, b: a + 1, jaccard: j });
        return;
      }
      if (attempt >= 4) { gray++; return; }
    }
  });
  return { docs, pairs, grayDropped: gray };
}

export interface PrecisionRecall { precision: number; recall: number; truePositives: number; predicted: number; positives: number; falsePairs: Array<[string, string, number]> }

/**
 * Scores predicted duplicate pairs (document indices) against the set at a Jaccard threshold. A
 * predicted pair's truth is its exact Jaccard (computed here for cross-family pairs too).
 */
export function scorePairs(set: LabelledSet, predicted: ReadonlyArray<[number, number]>, threshold = 0.8): PrecisionRecall {
  const sh = new Map<number, Set<string>>();
  const shingles = (i: number) => { let s = sh.get(i); if (!s) { s = shingleSet(simplifyText(set.docs[i].text), 5); sh.set(i, s); } return s; };
  const key = (a: number, b: number) => (a < b ? `${a},${b}` : `${b},${a}`);
  const truth = new Map(set.pairs.map((p) => [key(p.a, p.b), p.jaccard]));
  const positives = set.pairs.filter((p) => p.jaccard >= threshold).length;
  const seen = new Set<string>();
  let tp = 0, n = 0;
  const falsePairs: Array<[string, string, number]> = [];
  for (const [a, b] of predicted) {
    const k = key(a, b);
    if (seen.has(k)) continue;
    seen.add(k); n++;
    const j = truth.get(k) ?? jaccard(shingles(a), shingles(b));
    if (j >= threshold) tp++; else falsePairs.push([set.docs[a].id, set.docs[b].id, j]);
  }
  return { precision: n ? tp / n : 1, recall: positives ? tp / positives : 1, truePositives: tp, predicted: n, positives, falsePairs };
}
