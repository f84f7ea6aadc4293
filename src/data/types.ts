// The shapes every stage of the data pipeline shares.

/** One document. `id` is made once by the reader and kept by every stage (dedup, filter, remix, shards). */
export interface Doc {
  id: string;
  text: string;
  /** the input ("dump") it came from; cross-source dedup and the dedup-rate report group by it */
  source: string;
  /** the domain remixing balances (defaults to the source name) */
  domain: string;
}

/** One input of a pipeline: a source ("dump") made of files, directories or globs. */
export interface InputSpec {
  /** source name, unique in the pipeline; the order of inputs is the dedup survivor priority */
  name: string;
  domain?: string;
  paths: string[];
  /** default: from the extension (.jsonl/.json/.ndjson → jsonl, .parquet → parquet, else text) */
  format?: 'auto' | 'text' | 'jsonl' | 'parquet';
  /** JSONL/Parquet field holding the text (default `text`) */
  textField?: string;
  /** JSONL/Parquet field holding a stable id (default: file and line) */
  idField?: string;
  /** text files: `file` (one document per file, default), `line`, or a separator line such as `<|endoftext|>` */
  textSplit?: string;
}

/** Minimal tokenizer interface the shard writer needs (the [tokenizer] issue provides real ones). */
export interface ShardTokenizer {
  encode(text: string): readonly number[] | Uint32Array;
  eosId: number;
  /** identifies the vocabulary; written into every shard header and checked by the loader */
  hash: string;
}
