// Text data for the loop: a token stream (documents packed with EOS between them) split into train
// and a held-out validation tail, sampled in random windows whose whole state is an RNG state (a
// checkpoint restores it exactly). Text files are tokenized on the fly: byte-level (ids 0–255,
// EOS 256) by default, or with a tokenizer file (tokenizer.json, GGUF, tiktoken).
// Token shards of the data pipeline plug in through the same interfaces (shard-data.ts).
import { readFileSync, existsSync, statSync } from 'node:fs';
import { Tensor } from '../core/tensor.js';
import { Rng } from '../util/rng.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

export interface TokenStream {
  /** all tokens of the split */
  tokens: Int32Array;
  /**
   * UTF-8 bytes of text a token stands for, for bits-per-byte; EOS and other special tokens count 1
   * (the document boundary, as in the byte-level stream). null when the tokenizer is unknown.
   */
  tokenBytes: ((id: number) => number) | null;
  vocabSize: number;
  eos: number;
  describe: string;
}

export class DataError extends Error {
  constructor(msg: string) { super(msg); this.name = 'DataError'; }
}

export interface Batch { ids: Tensor; targets: Tensor }

/** The training side of a data source: the next micro-batch, and a JSON state a checkpoint keeps. */
export interface TrainBatches {
  next(): Batch;
  state(): unknown;
  restore(state: unknown): void;
  close(): void;
}

/** What the loop reads: training batches, the validation split and the vocabulary the data needs. */
export interface TrainData {
  train: TrainBatches;
  val: TokenStream;
  /** ids the data uses (the model's vocab_size must be at least this) */
  vocabSize: number;
  /** e.g. "tinyshakespeare.txt, byte-level" */
  describe: string;
}

export const BYTE_VOCAB = 257;
export const BYTE_EOS = 256;

function readTexts(files: string[]): Buffer[] {
  if (!files.length) throw new DataError('no data files given (--data)');
  return files.map((f) => {
    if (!existsSync(f)) throw new DataError(`${f}: no such file`);
    if (!statSync(f).isFile()) throw new DataError(`${f}: not a regular file (text files, or token shards: a directory or .bin files)`);
    try { return readFileSync(f); } catch (e) { throw new DataError(`${f}: unreadable: ${(e as Error).message}`); }
  });
}

function splitStream(all: Int32Array, files: string[], valFraction: number, base: Omit<TokenStream, 'tokens' | 'describe'>, what: string): { train: TokenStream; val: TokenStream } {
  const total = all.length;
  const split = Math.floor(total * (1 - valFraction));
  if (split < 2 || total - split < 2) throw new DataError(`${files.join(', ')}: too little data (${total} tokens) for a train/validation split`);
  const name = files.length === 1 ? files[0] : `${files.length} files`;
  return {
    train: { ...base, tokens: all.subarray(0, split), describe: `${name} [train ${split} ${what}]` },
    val: { ...base, tokens: all.subarray(split), describe: `${name} [validation ${total - split} ${what}]` },
  };
}

/** Reads text files, one document per file, as bytes with EOS after each; holds out the last `valFraction`. */
export function byteLevelStreams(files: string[], valFraction = 0.1): { train: TokenStream; val: TokenStream } {
  const parts = readTexts(files);
  const all = new Int32Array(parts.reduce((a, p) => a + p.length + 1, 0));
  let o = 0;
  for (const p of parts) { for (let i = 0; i < p.length; i++) all[o++] = p[i]; all[o++] = BYTE_EOS; }
  return splitStream(all, files, valFraction, { tokenBytes: () => 1, vocabSize: BYTE_VOCAB, eos: BYTE_EOS }, 'bytes');
}

/** Bytes each id stands for under `tok` (special tokens: 1, see TokenStream.tokenBytes). */
export function tokenByteCounter(tok: Tokenizer): (id: number) => number {
  const n = new Uint16Array(tok.vocabSize);
  for (let id = 0; id < tok.vocabSize; id++) n[id] = tok.isSpecial(id) ? 1 : tok.tokenBytes(id).length;
  return (id) => n[id] ?? 1;
}

/** Text files tokenized with `tok`, one document per file, EOS after each; holds out the last `valFraction` of tokens. */
export function tokenizedStreams(files: string[], tok: Tokenizer, valFraction = 0.1): { train: TokenStream; val: TokenStream } {
  const eos = tok.spec.eos;
  if (eos === undefined) throw new DataError(`tokenizer ${tok.spec.name} has no EOS token: documents cannot be packed (give a tokenizer with an end-of-text token)`);
  const parts = readTexts(files).map((b) => tok.encode(b.toString('utf8')));
  const all = new Int32Array(parts.reduce((a, p) => a + p.length + 1, 0));
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; all[o++] = eos; }
  return splitStream(all, files, valFraction, { tokenBytes: tokenByteCounter(tok), vocabSize: tok.vocabSize, eos }, 'tokens');
}

/** B windows of T+1 tokens at random offsets: ids are the first T, targets the last T */
export function sampleBatch(s: TokenStream, B: number, T: number, rng: Rng): Batch {
  if (s.tokens.length < T + 1) throw new DataError(`${s.describe}: ${s.tokens.length} tokens, a sequence needs ${T + 1}`);
  const ids = Tensor.empty([B, T], 'i32'), targets = Tensor.empty([B, T], 'i32');
  for (let b = 0; b < B; b++) {
    const start = rng.int(s.tokens.length - T);
    ids.i32.set(s.tokens.subarray(start, start + T), b * T);
    targets.i32.set(s.tokens.subarray(start + 1, start + T + 1), b * T);
  }
  return { ids, targets };
}

/** Random windows of a stream; the state is the sampler's RNG state. */
export function randomWindows(s: TokenStream, B: number, T: number, seed: number): TrainBatches {
  const rng = new Rng(seed ^ 0x5eed);
  return {
    next: () => sampleBatch(s, B, T, rng),
    state: () => rng.getState(),
    restore: (st) => rng.setState(st as number[]),
    close: () => {},
  };
}

export interface ValidationSet {
  batches: Batch[];
  /** target tokens evaluated, and the bytes of text they stand for (null: unknown tokenizer) */
  tokens: number;
  bytes: number | null;
}

/** fixed validation windows (same every evaluation): non-overlapping, from the start of the split */
export function validationSet(s: TokenStream, B: number, T: number, maxBatches: number): ValidationSet {
  const batches: Batch[] = [];
  const windows = Math.floor((s.tokens.length - 1) / T);
  const nb = Math.min(maxBatches, Math.floor(windows / B));
  if (nb < 1) throw new DataError(`${s.describe}: too small for one validation batch of ${B}×${T}`);
  let bytes = 0;
  for (let k = 0; k < nb; k++) {
    const ids = Tensor.empty([B, T], 'i32'), targets = Tensor.empty([B, T], 'i32');
    for (let b = 0; b < B; b++) {
      const start = (k * B + b) * T;
      ids.i32.set(s.tokens.subarray(start, start + T), b * T);
      targets.i32.set(s.tokens.subarray(start + 1, start + T + 1), b * T);
    }
    if (s.tokenBytes) for (const id of targets.i32) bytes += s.tokenBytes(id);
    batches.push({ ids, targets });
  }
  return { batches, tokens: nb * B * T, bytes: s.tokenBytes ? bytes : null };
}
