// Byte-level BPE training, as DeepSeek built its tokenizer (DeepSeek LLM §2.1: BBPE with the
// pre-tokenizer of presets.ts, 100,000 ordinary tokens + 15 specials, padded to 102,400).
//
// 1. Count words: input files are cut into line-aligned chunks and pre-tokenized in worker threads
//    (both cores); each keeps a word → count map, pruned of rare words past a cap, so memory is
//    bounded by the number of distinct words kept, not by the input size.
// 2. Merge: the 256 byte tokens (ordered by their byte-level character, as HF does) start the
//    vocabulary; each step merges the most frequent adjacent pair. Ties go to the smallest
//    (left id, right id) — a documented, input-order-independent rule, so the same input always
//    gives the same merges, whatever the thread count. Pair counts live in a map with a lazy
//    max-heap; each word lists where pairs occur, so a merge only touches the words that hold it.
// 3. Specials get ids after the ordinary tokens; the embedding size is padded to a multiple.
import { Worker } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { BYTE_TO_CHAR } from './byte-level.js';
import { TokenizerError } from './errors.js';
import { DEEPSEEK_LLM_HF, ggufPreset, TIKTOKEN_PATTERNS, split } from './presets.js';
import type { PreTokenizerJson } from './pretokenize.js';
import { Tokenizer, type TokenizerSpec } from './tokenizer.js';
import { chunkFiles, WordCounter, type CountConfig } from './word-count.js';
import { DEEPSEEK_BOS, DEEPSEEK_EOS } from './chat-template.js';

export interface TrainOptions {
  /** real tokens: 256 bytes + merges + specials (the paper: 100,015) */
  vocabSize: number;
  inputs: string[];
  /** default: DeepSeek's BOS and EOS */
  specialTokens?: string[];
  /** embedding rows rounded up to a multiple of this (the paper: 102,400 = 800 · 128) */
  padToMultiple?: number;
  /** 'deepseek-llm' (default), a GGUF pre-tokenizer name, or a tiktoken encoding name */
  pre?: string;
  threads?: number;
  /** pairs seen fewer times are never merged (default 2) */
  minFrequency?: number;
  /** distinct words kept per counter before pruning (default 4,000,000) */
  maxWords?: number;
  log?: (msg: string) => void;
}

export interface TrainResult {
  tokenizer: Tokenizer;
  merges: number;
  stats: {
    inputBytes: number; distinctWords: number; prunedOccurrences: number;
    countSeconds: number; mergeSeconds: number; peakRssMiB: number;
    /** UTF-8 bytes per token of each input (first 4 MiB), keyed by dir/file */
    bytesPerToken: Record<string, number>;
  };
}

function preTokenizerFor(name: string): PreTokenizerJson {
  if (name === 'deepseek-llm') return DEEPSEEK_LLM_HF;
  if (TIKTOKEN_PATTERNS[name]) return split(TIKTOKEN_PATTERNS[name]);
  const p = ggufPreset(name);
  if (p) return p.preTokenizer;
  throw new TokenizerError(`train: unknown pre-tokenizer ${JSON.stringify(name)}`, { code: 'E_TRAIN', hint: 'use deepseek-llm, gpt-2, llama-bpe, qwen2, cl100k_base, …' });
}

/** Counts words in worker threads (or in-process with threads ≤ 1). */
async function countWords(cfg: CountConfig, inputs: string[], threads: number): Promise<{ counts: Map<string, number>; pruned: number; bytes: number }> {
  const chunks = chunkFiles(inputs);
  if (threads <= 1 || chunks.length === 1) {
    const c = new WordCounter(cfg);
    for (const ch of chunks) c.addChunk(ch);
    return { counts: c.counts, pruned: c.pruned, bytes: c.bytes };
  }
  let next = 0;
  const results = await Promise.all(Array.from({ length: Math.min(threads, chunks.length) }, () => new Promise<{ words: string[]; counts: Float64Array; pruned: number; bytes: number }>((resolve, reject) => {
    const w = new Worker(new URL('./count-worker.js', import.meta.url), { workerData: cfg });
    const feed = () => { if (next < chunks.length) w.postMessage({ chunk: chunks[next++] }); else w.postMessage({ done: true }); };
    w.on('message', (m) => { if (m.ready) feed(); else { resolve(m); void w.terminate(); } });
    w.on('error', reject);
    feed();
  })));
  const counts = new Map<string, number>();
  let pruned = 0, bytes = 0;
  for (const r of results) {
    pruned += r.pruned; bytes += r.bytes;
    for (let i = 0; i < r.words.length; i++) counts.set(r.words[i], (counts.get(r.words[i]) ?? 0) + r.counts[i]);
  }
  return { counts, pruned, bytes };
}

/** Max-heap of (count, pair key): larger count first, then smaller key. */
class PairHeap {
  private c: number[] = []; private k: number[] = [];
  get size() { return this.c.length; }
  private less(i: number, j: number) { return this.c[i] > this.c[j] || (this.c[i] === this.c[j] && this.k[i] < this.k[j]); }
  private swap(i: number, j: number) { [this.c[i], this.c[j]] = [this.c[j], this.c[i]]; [this.k[i], this.k[j]] = [this.k[j], this.k[i]]; }
  push(count: number, key: number) {
    this.c.push(count); this.k.push(key);
    for (let i = this.c.length - 1; i > 0;) { const p = (i - 1) >> 1; if (!this.less(i, p)) break; this.swap(i, p); i = p; }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.c[0], this.k[0]];
    const lc = this.c.pop()!, lk = this.k.pop()!;
    if (this.c.length) {
      this.c[0] = lc; this.k[0] = lk;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < this.c.length && this.less(l, m)) m = l;
        if (r < this.c.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m); i = m;
      }
    }
    return top;
  }
}


/**
 * Trains a byte-level BPE tokenizer.
 * @example const { tokenizer } = await trainBpe({ vocabSize: 32000, inputs: ['corpus.txt'] });
 */
export async function trainBpe(opts: TrainOptions): Promise<TrainResult> {
  const log = opts.log ?? (() => {});
  const specials = opts.specialTokens ?? [DEEPSEEK_BOS, DEEPSEEK_EOS];
  const seen = new Set<string>();
  for (const s of specials) {
    if (!s) throw new TokenizerError('train: empty special token', { code: 'E_TRAIN' });
    if (seen.has(s)) throw new TokenizerError(`train: special token ${JSON.stringify(s)} is given twice`, { code: 'E_DUPLICATE_SPECIAL', hint: 'list each special token once' });
    seen.add(s);
  }
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < 256 + specials.length) {
    throw new TokenizerError(`train: vocab size ${opts.vocabSize} is smaller than 256 byte tokens + ${specials.length} special tokens = ${256 + specials.length}`,
      { code: 'E_VOCAB_SIZE', hint: 'raise --vocab-size' });
  }
  for (const f of opts.inputs) {
    try { statSync(f); } catch { throw new TokenizerError(`train: input ${f}: no such file`, { code: 'E_NO_FILE' }); }
  }
  const nMerges = opts.vocabSize - 256 - specials.length;
  const preName = opts.pre ?? 'deepseek-llm';
  const pre = preTokenizerFor(preName);
  const cfg: CountConfig = { pre, dollar: 'line-end', specials, maxWords: opts.maxWords ?? 4_000_000 };

  const t0 = performance.now();
  const { counts, pruned, bytes } = await countWords(cfg, opts.inputs, opts.threads ?? 2);
  const t1 = performance.now();
  log(`counted ${counts.size.toLocaleString()} distinct words in ${(bytes / 1e6).toFixed(1)} MB (${((t1 - t0) / 1000).toFixed(1)} s)`);

  // byte tokens: ids 0..255 in the order of their byte-level characters
  const order = Array.from({ length: 256 }, (_, b) => b).sort((x, y) => BYTE_TO_CHAR[x].codePointAt(0)! - BYTE_TO_CHAR[y].codePointAt(0)!);
  const idOfByte = new Int32Array(256);
  const tokens: Uint8Array[] = order.map((b, id) => { idOfByte[b] = id; return Uint8Array.of(b); });

  // words as symbol arrays, sorted so the result never depends on map order
  const wordList = [...counts.keys()].sort();
  const wc = Float64Array.from(wordList, (w) => counts.get(w)!);
  const enc = new TextEncoder();
  const syms: Int32Array[] = wordList.map((w) => Int32Array.from(enc.encode(w), (b) => idOfByte[b]));
  const lens = Int32Array.from(syms, (s) => s.length);
  counts.clear();

  // pair key = left·KEY + right; KEY the smallest power of two above every id, so keys of
  // vocabularies up to 32k stay small integers (V8 maps of small integers are much faster)
  let KEY = 2;
  while (KEY < 256 + nMerges) KEY *= 2;
  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  for (let w = 0; w < syms.length; w++) {
    const s = syms[w], c = wc[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const k = s[i] * KEY + s[i + 1];
      pairCount.set(k, (pairCount.get(k) ?? 0) + c);
      const l = where.get(k);
      if (!l) where.set(k, [w]); else if (l[l.length - 1] !== w) l.push(w);
    }
  }
  const heap = new PairHeap();
  for (const [k, c] of pairCount) heap.push(c, k);
  const merges: [number, number][] = [];
  const minFreq = opts.minFrequency ?? 2;
  const delta = new Map<number, number>();
  while (merges.length < nMerges && heap.size) {
    const [c, k] = heap.pop();
    const cur = pairCount.get(k) ?? 0;
    if (cur !== c) { if (cur > 0) heap.push(cur, k); continue; }
    if (c < minFreq) break;
    const a = Math.floor(k / KEY), b = k - a * KEY;
    const id = tokens.length;
    const ta = tokens[a], tb = tokens[b];
    const tn = new Uint8Array(ta.length + tb.length); tn.set(ta); tn.set(tb, ta.length);
    tokens.push(tn);
    merges.push([a, b]);
    delta.clear();
    const add = (key: number, d: number) => delta.set(key, (delta.get(key) ?? 0) + d);
    for (const w of where.get(k) ?? []) {
      const s = syms[w], n = lens[w], cw = wc[w];
      let has = false;
      for (let i = 0; i + 1 < n; i++) if (s[i] === a && s[i + 1] === b) { has = true; break; }
      if (!has) continue;
      for (let i = 0; i + 1 < n; i++) add(s[i] * KEY + s[i + 1], -cw);
      let o = 0;
      for (let i = 0; i < n; i++) {
        if (i + 1 < n && s[i] === a && s[i + 1] === b) { s[o++] = id; i++; } else s[o++] = s[i];
      }
      lens[w] = o;
      for (let i = 0; i + 1 < o; i++) {
        const nk = s[i] * KEY + s[i + 1];
        add(nk, cw);
        if (s[i] === id || s[i + 1] === id) {
          const l = where.get(nk);
          if (!l) where.set(nk, [w]); else if (l[l.length - 1] !== w) l.push(w);
        }
      }
    }
    where.delete(k);
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const v = (pairCount.get(key) ?? 0) + d;
      if (v <= 0) pairCount.delete(key); else pairCount.set(key, v);
      if (d > 0) heap.push(v, key);
    }
    if (merges.length % 5000 === 0) log(`  ${merges.length.toLocaleString()} / ${nMerges.toLocaleString()} merges`);
  }
  const t2 = performance.now();
  if (merges.length < nMerges) log(`only ${merges.length} merges reach min frequency ${minFreq}; vocabulary is smaller than asked`);

  const first = tokens.length;
  const real = first + specials.length;
  const pad = Math.max(1, opts.padToMultiple ?? 1);
  const spec: TokenizerSpec = {
    name: `trained (${preName}, ${real} tokens)`, tokens, mode: 'merges', merges, ignoreMerges: false,
    preTokenizer: withByteLevel(pre), dollar: 'line-end', normalizer: null,
    addedTokens: specials.map((content, i) => ({ id: first + i, content, special: true })),
    bos: specials.length ? first : undefined, eos: specials.length > 1 ? first + 1 : undefined, addBos: specials.length > 0,
    vocabSize: Math.ceil(real / pad) * pad,
  };
  const tokenizer = new Tokenizer(spec);
  const bytesPerToken: Record<string, number> = {};
  for (const f of opts.inputs) {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(f).subarray(0, 4 << 20).toString('utf8');
    const n = tokenizer.encode(text).length;
    bytesPerToken[`${basename(dirname(f))}/${basename(f)}`] = n ? Buffer.byteLength(text) / n : 0;
  }
  return {
    tokenizer, merges: merges.length,
    stats: {
      inputBytes: bytes, distinctWords: wordList.length, prunedOccurrences: pruned,
      countSeconds: (t1 - t0) / 1000, mergeSeconds: (t2 - t1) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024, bytesPerToken,
    },
  };
}

function withByteLevel(p: PreTokenizerJson): PreTokenizerJson {
  const list = p.type === 'Sequence' ? p.pretokenizers : [p];
  if (list.some((x) => x.type === 'ByteLevel')) return p;
  return { type: 'Sequence', pretokenizers: [...list, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] };
}

export function formatTrainReport(r: TrainResult): string {
  const s = r.stats;
  const lines = [
    `vocabulary: ${r.tokenizer.spec.tokens.length} ordinary tokens (${r.merges} merges) + ${r.tokenizer.spec.addedTokens.length} specials, embedding size ${r.tokenizer.vocabSize}`,
    `input ${(s.inputBytes / 1e6).toFixed(1)} MB, ${s.distinctWords.toLocaleString()} distinct words${s.prunedOccurrences ? `, ${s.prunedOccurrences.toLocaleString()} rare-word occurrences pruned` : ''}`,
    `time: count ${s.countSeconds.toFixed(1)} s, merge ${s.mergeSeconds.toFixed(1)} s; peak RSS ${s.peakRssMiB.toFixed(0)} MiB`,
    'bytes/token: ' + Object.entries(s.bytesPerToken).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', '),
  ];
  return lines.join('\n');
}
