// Token shards of the data pipeline (src/data/shards.ts) as training data. Training batches come
// from ShardLoader (shards in a seeded order per epoch, contiguous windows), whose JSON cursor the
// checkpoint keeps, so a resumed run reads exactly the batches an uninterrupted one would.
// Validation: the pipeline's validation shards (file names starting with "val"), or, when there are
// none, the last 10% of the tokens of the last training shard, which training then never reads.
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Tensor } from '../core/tensor.js';
import { ShardLoader, type LoaderCursor } from '../data/loader.js';
import { readHeader, SHARD_HEADER_BYTES, type ShardHeader } from '../data/shards.js';
import { byteTokenizer } from '../data/byte-tokenizer.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { DataError, BYTE_VOCAB, tokenByteCounter, type TokenStream, type TrainBatches, type TrainData } from './data.js';

/** true when `paths` name token shards (directories or .bin files) rather than text files */
export function isShardInput(paths: string[]): boolean {
  return paths.length > 0 && paths.every((p) => p.endsWith('.bin') || (existsSync(p) && statSync(p).isDirectory()));
}

/** the .bin files of the given directories and files, split into training and validation by name */
export function listShards(paths: string[]): { train: string[]; val: string[] } {
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new DataError(`${p}: no such file or directory`);
    if (statSync(p).isDirectory()) {
      const bins = readdirSync(p).filter((f) => f.endsWith('.bin')).sort().map((f) => join(p, f));
      if (!bins.length) throw new DataError(`${p}: no token shards (*.bin) in this directory; make them with \`dsllm data tokenize\``);
      files.push(...bins);
    } else files.push(p);
  }
  const isVal = (f: string) => basename(f).startsWith('val');
  return { train: files.filter((f) => !isVal(f)), val: files.filter(isVal) };
}

function header(path: string): ShardHeader {
  try { return readHeader(path); } catch (e) {
    if ((e as Error).name === 'ShardFormatError') throw e; // names the file and what is wrong with it
    throw new DataError(`${path}: unreadable: ${(e as Error).message}`);
  }
}

/** n token ids of a shard from token offset `from` */
function readTokens(path: string, h: ShardHeader, from: number, n: number): Int32Array {
  const buf = Buffer.alloc(n * h.bytesPerToken);
  const fd = openSync(path, 'r');
  try { readSync(fd, buf, 0, buf.length, SHARD_HEADER_BYTES + from * h.bytesPerToken); } finally { closeSync(fd); }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = h.bytesPerToken === 2 ? buf.readUInt16LE(i * 2) : buf.readUInt32LE(i * 4);
  return out;
}

export interface ShardDataOptions {
  paths: string[];
  B: number;
  T: number;
  seed: number;
  /** the tokenizer the shards were written with: vocabulary size and bytes per token (bits-per-byte) */
  tokenizer?: Tokenizer;
  /** validation tokens to read (the evaluation windows need no more) */
  valTokens: number;
  /** the model's vocabulary: every training batch is checked against it */
  modelVocab: number;
}

export function shardData(o: ShardDataOptions): TrainData {
  const { train, val } = listShards(o.paths);
  if (!train.length) throw new DataError(`${o.paths.join(', ')}: only validation shards (val*.bin), no training shards`);
  const th = train.map(header), vh = val.map(header);
  const all = [...th, ...vh], files = [...train, ...val];
  all.forEach((h, i) => {
    if (h.eosId !== th[0].eosId || h.tokenizerHash !== th[0].tokenizerHash) {
      throw new DataError(`${files[i]}: written with tokenizer '${h.tokenizerHash}' (EOS ${h.eosId}), ${train[0]} with '${th[0].tokenizerHash}' (EOS ${th[0].eosId}): shards of one run must share a tokenizer`);
    }
  });
  const tok = o.tokenizer;
  if (tok && tok.spec.eos !== undefined && tok.spec.eos !== th[0].eosId) {
    throw new DataError(`${train[0]}: shards end documents with id ${th[0].eosId}, tokenizer ${tok.spec.name} has EOS ${tok.spec.eos}: the shards were written with another tokenizer`);
  }
  const isBytes = th[0].tokenizerHash === byteTokenizer.hash;
  const tokenBytes = tok ? tokenByteCounter(tok) : isBytes ? () => 1 : null;

  // validation: val shards, or the tail of the last training shard
  const limits = th.map((h) => h.numTokens);
  let valTokens: Int32Array;
  let valWhat: string;
  if (val.length) {
    const parts: Int32Array[] = [];
    let need = o.valTokens;
    for (let i = 0; i < val.length && need > 0; i++) {
      const n = Math.min(need, vh[i].numTokens);
      parts.push(readTokens(val[i], vh[i], 0, n)); need -= n;
    }
    valTokens = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) { valTokens.set(p, at); at += p.length; }
    valWhat = `${val.length} validation shard${val.length > 1 ? 's' : ''}`;
  } else {
    const last = train.length - 1, n = th[last].numTokens;
    const keep = Math.floor(n * 0.9);
    limits[last] = keep;
    valTokens = readTokens(train[last], th[last], keep, Math.min(n - keep, o.valTokens));
    valWhat = `the last 10% of ${basename(train[last])} (no val*.bin shards)`;
  }
  let maxId = 0;
  for (const id of valTokens) if (id > maxId) maxId = id;
  const vocabSize = tok ? tok.vocabSize : isBytes ? BYTE_VOCAB : Math.max(maxId, th[0].eosId) + 1;
  const valStream: TokenStream = { tokens: valTokens, tokenBytes, vocabSize, eos: th[0].eosId, describe: valWhat };
  const trainTokens = limits.reduce((a, b) => a + b, 0);
  if (trainTokens < o.B * o.T + 1) throw new DataError(`${train.join(', ')}: ${trainTokens} training tokens, one batch of ${o.B}×${o.T} needs ${o.B * o.T + 1}`);
  if (valTokens.length < o.T + 1) throw new DataError(`validation from ${valWhat}: ${valTokens.length} tokens, one sequence needs ${o.T + 1}`);
  return {
    train: shardBatches(train, limits, o),
    val: valStream,
    vocabSize,
    describe: `${train.length} training shard${train.length > 1 ? 's' : ''} (${trainTokens.toLocaleString()} tokens, tokenizer '${th[0].tokenizerHash}'), validation from ${valWhat}`,
  };
}

function shardBatches(paths: string[], limits: number[], o: ShardDataOptions): TrainBatches {
  const { B, T, modelVocab: vocab } = o;
  const open = (cursor?: LoaderCursor) => new ShardLoader(paths, { batchSize: B, seqLen: T, seed: o.seed, cursor, tokenLimits: limits });
  let loader = open();
  return {
    next() {
      const at = loader.cursor;
      const { tokens } = loader.next();
      const ids = Tensor.empty([B, T], 'i32'), targets = Tensor.empty([B, T], 'i32');
      for (let b = 0; b < B; b++) {
        const row = tokens.subarray(b * (T + 1), (b + 1) * (T + 1));
        for (let t = 0; t <= T; t++) {
          if (row[t] >= vocab) {
            ids.dispose(); targets.dispose();
            throw new DataError(`${paths[0]}…: token id ${row[t]} in the batch at cursor ${JSON.stringify(at)} is outside the model's vocabulary (${vocab} ids): the shards were written with a larger tokenizer; set --vocab-size or give the --tokenizer they were written with`);
          }
        }
        ids.i32.set(row.subarray(0, T), b * T);
        targets.i32.set(row.subarray(1), b * T);
      }
      return { ids, targets };
    },
    state: () => loader.cursor,
    restore(st) { loader.close(); loader = open(st as LoaderCursor); },
    close: () => loader.close(),
  };
}
