// Quality filters: each rule fires on a document built to cross exactly its threshold, with the
// counts worked out by hand in the comments; the chain tags each removal with its rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { c4Quality, countSentences, finewebQuality } from '../../src/data/filters/c4-fineweb.js';
import { allDuplicateChars, findDuplicates, gopherQuality, gopherRepetition, topDuplicateChars } from '../../src/data/filters/gopher.js';
import { applyFilters, DEFAULT_FILTERS, filterConfig } from '../../src/data/filters/index.js';
import { languageFilter } from '../../src/data/filters/language.js';

const GOOD = 'The little dog ran to the park with his friend. They played with a red ball and laughed in the sun. ' +
  'After a while the dog was tired, so he lay down under a big tree. His friend sat next to him and told him a story. ' +
  'It was about a brave cat that sailed to an island to find treasure. The dog liked the story and fell asleep with a smile. ' +
  'When he woke up, the sun was going down and it was time to go home for dinner.';

test('helpers: duplicate counts by hand', () => {
  assert.deepEqual(findDuplicates(['a', 'b', 'a', 'a']), [2, 2]);
  // a b c d e a b c d e, n = 5: the second "a b c d e" (9 chars) repeats, then the scan jumps past it
  assert.equal(allDuplicateChars('a b c d e a b c d e'.split(' '), 5), 9);
  assert.equal(topDuplicateChars(['x y', 'x y', 'z w', 'x y']), 9);
  assert.equal(countSentences('One here. Two here! Three?'), 3);
  assert.equal(countSentences('no end mark'), 1);
});

test('Gopher quality: one document per rule', () => {
  assert.deepEqual(gopherQuality(GOOD), { keep: true });
  const words = GOOD.split(' ');
  // 49 non-punctuation words < 50
  assert.equal(gopherQuality(words.slice(0, 45).join(' ')).keep, false);
  assert.deepEqual(gopherQuality(Array.from({ length: 49 }, () => 'the').join(' ')), { keep: false, rule: 'gopher_quality:gopher_short_doc' });
  // 60 words of 2 letters: mean 2 < 3
  assert.deepEqual(gopherQuality(Array.from({ length: 60 }, () => 'to').join(' ')), { keep: false, rule: 'gopher_quality:gopher_below_avg_threshold' });
  // words of 11 letters: mean 11 > 10
  assert.deepEqual(gopherQuality(Array.from({ length: 60 }, () => 'abcdefghijk').join(' ')), { keep: false, rule: 'gopher_quality:gopher_above_avg_threshold' });
  // GOOD has 90 words; each "#tag" adds one word ('#' is punctuation): 10 / 100 = 0.1 is not > 0.1
  // and keeps, 11 / 101 = 0.109 drops
  assert.equal(wordCount(GOOD), 90);
  assert.deepEqual(gopherQuality(GOOD + ' #tag'.repeat(10)), { keep: true });
  assert.deepEqual(gopherQuality(GOOD + ' #tag'.repeat(11)), { keep: false, rule: 'gopher_quality:gopher_too_many_hashes' });
  // 10 lines, 4 end with "..." → 0.4 > 0.3 (and 4 ellipses / ~100 words stays under the 0.1 symbol ratio)
  const lines = GOOD.split('. ').slice(0, 10);
  const ell = lines.map((l, i) => (i < 4 ? `${l}...` : `${l}.`)).join('\n');
  assert.deepEqual(gopherQuality(ell), { keep: false, rule: 'gopher_quality:gopher_too_many_end_ellipsis' });
  // every line starts with a bullet: 1.0 > 0.9
  assert.deepEqual(gopherQuality(lines.map((l) => `• ${l}`).join('\n') + '\n• one more line\n• and another'), { keep: false, rule: 'gopher_quality:gopher_too_many_bullets' });
  // 60 words, none a stop word
  assert.deepEqual(gopherQuality(Array.from({ length: 60 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}`).join(' ')), { keep: false, rule: 'gopher_quality:gopher_enough_stop_words' });
  // 30 alphabetic words + 30 numbers: 30/60 = 0.5 of words have a letter < 0.8
  assert.deepEqual(gopherQuality(Array.from({ length: 30 }, () => 'the 12345').join(' ')), { keep: false, rule: 'gopher_quality:gopher_below_alpha_threshold' });
});

function wordCount(t: string): number { return t.match(/[\p{L}\p{N}_]+(?:['’][\p{L}\p{N}_]+)*/gu)!.length; }

test('Gopher repetition: paragraphs, lines, top n-grams, duplicated n-grams', () => {
  assert.deepEqual(gopherRepetition(GOOD), { keep: true });
  // 4 paragraphs, 2 repeats: 0.5 > 0.3
  assert.deepEqual(gopherRepetition('alpha beta gamma\n\ndelta\n\nalpha beta gamma\n\nalpha beta gamma'), { keep: false, rule: 'gopher_repetition:dup_para_frac' });
  // 5 lines, 2 repeats (0.4 > 0.3)
  assert.deepEqual(gopherRepetition('one two\nthree four\none two\nfive six\none two'), { keep: false, rule: 'gopher_repetition:dup_line_frac' });
  // "the cat" × 30 (7 chars × 30 = 210) in a 30·8 + 600-char text: 210 / 839 = 0.25 > 0.2
  const uniq = Array.from({ length: 120 }, (_, i) => `u${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}x`).join(' ');
  const t = 'the cat '.repeat(30) + uniq;
  assert.ok(Math.abs(210 / t.length - 0.25) < 0.01);
  assert.deepEqual(gopherRepetition(t), { keep: false, rule: 'gopher_repetition:top_2_gram' });
  // 120 unique words, then the first 25 again: the repeat covers 5 whole 5-grams of 24 chars each
  // = 120 chars of 719 = 0.167 > 0.15, while every top-n-gram share stays tiny
  const ws = uniq.split(' ');
  const rep = ws.concat(ws.slice(0, 25)).join(' ');
  assert.ok(allDuplicateChars(rep.split(' '), 5) / rep.length > 0.15);
  assert.deepEqual(gopherRepetition(rep), { keep: false, rule: 'gopher_repetition:duplicated_5_n_grams' });
});

test('C4: line rules, document rules, kept text', () => {
  const doc = ['This is the first line.', 'Menu', 'Click here to enable javascript now.', 'We use cookies on this site. Accept them.',
    'Second good line is here [1].', 'Third good line, with two sentences. Yes indeed.', 'Ends without punctuation mark'].join('\n');
  // kept: lines 1, 5, 6 → 1 + 1 + 2 = 4 sentences < 5
  assert.deepEqual(c4Quality(doc), { keep: false, rule: 'c4:too_few_sentences' });
  const more = doc + '\nOne more sentence is here.';
  assert.deepEqual(c4Quality(more), { keep: true, text: 'This is the first line.\nSecond good line is here .\nThird good line, with two sentences. Yes indeed.\nOne more sentence is here.' });
  assert.deepEqual(c4Quality(more + '\nLorem ipsum dolor sit amet.'), { keep: false, rule: 'c4:lorem_ipsum' });
  assert.deepEqual(c4Quality(more + '\nfunction f() { return 1; }.'), { keep: false, rule: 'c4:curly_bracket' });
});

test('FineWeb: punctuation, short lines, duplicated lines, list-like documents', () => {
  const long = (i: number) => `this is a fairly long line number ${String.fromCharCode(97 + i)} of text`;
  // no line ends in punctuation: ratio 0 <= 0.12
  assert.deepEqual(finewebQuality(Array.from({ length: 10 }, (_, i) => long(i)).join('\n')), { keep: false, rule: 'fineweb:line_punct_ratio' });
  // 7 of 10 lines have <= 30 chars: 0.7 >= 0.67
  const short = Array.from({ length: 10 }, (_, i) => (i < 7 ? `Short ${i}.` : `${long(i)}.`)).join('\n');
  assert.deepEqual(finewebQuality(short), { keep: false, rule: 'fineweb:short_line_ratio' });
  // one line repeated: its chars / all chars >= 0.01
  const dup = Array.from({ length: 10 }, (_, i) => `${long(i % 9)}.`).join('\n');
  assert.deepEqual(finewebQuality(dup), { keep: false, rule: 'fineweb:char_dup_ratio' });
  // 10 one-word lines: 9 newlines / 20 tokens (word + '.') = 0.45 > 0.3
  const list = Array.from({ length: 10 }, (_, i) => `${String.fromCharCode(97 + i).repeat(35)}.`).join('\n');
  assert.deepEqual(finewebQuality(list), { keep: false, rule: 'fineweb:list_ratio' });
  assert.deepEqual(finewebQuality(GOOD), { keep: true });
});

test('language identification and the chain: each removal names its rule', () => {
  assert.equal(languageFilter(GOOD).language, 'en');
  assert.equal(languageFilter('床前明月光，疑是地上霜。举头望明月，低头思故乡。').keep, true);
  assert.deepEqual(languageFilter('Der schnelle braune Fuchs springt über den faulen Hund und läuft davon.'), { keep: false, rule: 'language:unwanted_language', language: 'de' });
  assert.deepEqual(languageFilter('### 123 456 ### ??').keep, false);
  assert.equal((languageFilter('### 123 456 ### ??') as { rule?: string }).rule, 'language:low_score');
  const doc = { id: 'x', source: 's', domain: 'd' };
  assert.equal(applyFilters({ ...doc, text: GOOD + '\nOne more line is here.' }).keep, true);
  const zh = applyFilters({ ...doc, text: '床前明月光，疑是地上霜。举头望明月，低头思故乡。' });
  assert.deepEqual([zh.keep, zh.language], [true, 'zh']);  // English heuristics do not judge Chinese
  assert.equal(applyFilters({ ...doc, text: GOOD.split(' ').slice(0, 30).join(' ') }).rule, 'gopher_quality:gopher_short_doc');
  assert.equal(applyFilters({ ...doc, text: GOOD + '\nLorem ipsum dolor sit amet, it is.' }).rule, 'c4:lorem_ipsum');
  const off = filterConfig({ c4: false, gopherQuality: { minDocWords: 10 } });
  assert.equal(off.c4, false);
  assert.equal(off.gopherQuality && off.gopherQuality.minDocWords, 10);
  assert.equal(off.gopherQuality && off.gopherQuality.maxDocWords, 100_000);
  assert.throws(() => filterConfig({ nope: 1 }), /unknown filter 'nope'/);
  assert.ok(DEFAULT_FILTERS.language);
});
