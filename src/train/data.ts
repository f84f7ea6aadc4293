// Training data for the loop: a token stream (documents packed with EOS between them) split into
// train and held-out validation, and a batch sampler whose whole state is an RNG state, so a
// checkpoint restores it exactly. Text files are tokenized on the fly (byte-level: ids 0–255, EOS 256);
// token shards of the data pipeline plug in through the same TokenStream interface.
import { readFileSync, existsSync, statSync } from 'node:fs';
import { Tensor } from '../core/tensor.js';
import { Rng } from '../util/rng.js';

export interface TokenStream {
  /** all tokens of the split */
  tokens: Int32Array;
  /** bytes of text the tokens stand for (for bits-per-byte) */
  bytes: number;
  vocabSize: number;
  eos: number;
  describe: string;
}

export class DataError extends Error {
  constructor(msg: string) { super(msg); this.name = 'DataError'; }
}

export const BYTE_VOCAB = 257;
export const BYTE_EOS = 256;

/** Reads text files, one document per file, as bytes with EOS between documents; holds out the last `valFraction`. */
export function byteLevelStreams(files: string[], valFraction = 0.1): { train: TokenStream; val: TokenStream } {
  if (!files.length) throw new DataError('no data files given (--data)');
  const parts: Buffer[] = [];
  for (const f of files) {
    if (!existsSync(f)) throw new DataError(`${f}: no such file`);
    if (!statSync(f).isFile()) throw new DataError(`${f}: not a regular file`);
    try { parts.push(readFileSync(f)); } catch (e) { throw new DataError(`${f}: unreadable: ${(e as Error).message}`); }
  }
  const total = parts.reduce((a, p) => a + p.length + 1, 0);
  const all = new Int32Array(total);
  let o = 0;
  for (const p of parts) { for (let i = 0; i < p.length; i++) all[o++] = p[i]; all[o++] = BYTE_EOS; }
  const split = Math.floor(total * (1 - valFraction));
  if (split < 2 || total - split < 2) throw new DataError(`${files.join(', ')}: too little data (${total} bytes) for a train/validation split`);
  const name = files.length === 1 ? files[0] : `${files.length} files`;
  return {
    train: { tokens: all.subarray(0, split), bytes: split, vocabSize: BYTE_VOCAB, eos: BYTE_EOS, describe: `${name} [train ${split} bytes]` },
    val: { tokens: all.subarray(split), bytes: total - split, vocabSize: BYTE_VOCAB, eos: BYTE_EOS, describe: `${name} [val ${total - split} bytes]` },
  };
}

/** B windows of T+1 tokens at random offsets: ids are the first T, targets the last T */
export function sampleBatch(s: TokenStream, B: number, T: number, rng: Rng): { ids: Tensor; targets: Tensor } {
  if (s.tokens.length < T + 1) throw new DataError(`${s.describe}: ${s.tokens.length} tokens, a sequence needs ${T + 1}`);
  const ids = Tensor.empty([B, T], 'i32'), targets = Tensor.empty([B, T], 'i32');
  for (let b = 0; b < B; b++) {
    const start = rng.int(s.tokens.length - T);
    ids.i32.set(s.tokens.subarray(start, start + T), b * T);
    targets.i32.set(s.tokens.subarray(start + 1, start + T + 1), b * T);
  }
  return { ids, targets };
}

/** fixed validation windows (same every evaluation): non-overlapping, from the start of the split */
export function validationBatches(s: TokenStream, B: number, T: number, maxBatches: number): { ids: Tensor; targets: Tensor }[] {
  const out: { ids: Tensor; targets: Tensor }[] = [];
  const windows = Math.floor((s.tokens.length - 1) / T);
  const nb = Math.min(maxBatches, Math.floor(windows / B));
  if (nb < 1) throw new DataError(`${s.describe}: too small for one validation batch of ${B}×${T}`);
  for (let k = 0; k < nb; k++) {
    const ids = Tensor.empty([B, T], 'i32'), targets = Tensor.empty([B, T], 'i32');
    for (let b = 0; b < B; b++) {
      const start = (k * B + b) * T;
      ids.i32.set(s.tokens.subarray(start, start + T), b * T);
      targets.i32.set(s.tokens.subarray(start + 1, start + T + 1), b * T);
    }
    out.push({ ids, targets });
  }
  return out;
}
