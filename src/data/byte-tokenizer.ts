// A byte-level tokenizer (ids 0–255 are UTF-8 bytes, 256 is end-of-document): enough to run and test
// the shard stage until a trained BBPE tokenizer is plugged in through the same interface.
import type { ShardTokenizer } from './types.js';

export const byteTokenizer: ShardTokenizer & { vocabSize: number; decode(ids: ArrayLike<number>): string } = {
  eosId: 256,
  vocabSize: 257,
  hash: 'byte-v1',
  encode(text: string): number[] { return Array.from(Buffer.from(text, 'utf8')); },
  decode(ids: ArrayLike<number>): string { return Buffer.from(Array.from(ids).filter((i) => i < 256)).toString('utf8'); },
};
