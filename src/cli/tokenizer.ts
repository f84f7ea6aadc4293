// `dsllm tokenizer encode|decode|train|convert|chat`: parse flags, call src/tokenizer, print.
import { createReadStream, readFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { loadTokenizer, saveHfJson } from '../tokenizer/formats/load.js';
import { Utf8Decoder } from '../tokenizer/utf8.js';
import { TokenizerError } from '../tokenizer/errors.js';
import type { SpecialMode } from '../tokenizer/added-tokens.js';
import { TokenizerPool } from '../tokenizer/pool.js';
import { IdBuffer } from '../tokenizer/id-buffer.js';
import { idLines } from './ids-text.js';
import type { EncodeOptions } from '../tokenizer/tokenizer.js';

function readStdin(): Buffer {
  try { return readFileSync(0); } catch { return Buffer.alloc(0); }
}

function writeOut(s: string | Uint8Array): void {
  const buf = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  for (let off = 0; off < buf.length;) {
    try { off += writeSync(1, buf, off); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e; }
  }
}

function parseSpecial(v: string): SpecialMode {
  if (v === 'none' || v === 'all' || v === 'error') return v;
  return v.split(',').filter(Boolean);
}

/** Parses ids from text: a JSON array, or numbers separated by whitespace/commas. */
export function parseIds(text: string, where = 'stdin'): number[] {
  const t = text.trim();
  if (!t) return [];
  if (t.startsWith('[')) {
    let v: unknown;
    try { v = JSON.parse(t); } catch (e) { throw new TokenizerError(`${where}: not a JSON array of ids: ${(e as Error).message}`, { code: 'E_IDS' }); }
    if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) throw new TokenizerError(`${where}: expected a JSON array of integers`, { code: 'E_IDS' });
    return v as number[];
  }
  const parts = t.split(/[\s,]+/);
  return parts.map((p, i) => {
    if (!/^\d+$/.test(p)) throw new TokenizerError(`${where}: item ${i + 1} ${JSON.stringify(p.slice(0, 20))} is not a token id`, { code: 'E_IDS' });
    return Number(p);
  });
}

/** lines are encoded in batches of about this many characters */
const LINES_BATCH_CHARS = 1 << 20;

/**
 * `encode --lines`: stdin streamed in batches of whole lines, each line encoded alone (without its
 * "\n"; "\r" stays; a final line without "\n" counts), one output line per input line, in order. With
 * more than one thread the batches go to a TokenizerPool as one string each (encodeLinesFlat: no
 * string per line here), and reading the next batch overlaps encoding this one.
 */
async function encodeLines(path: string, threads: number, opts: EncodeOptions, json: boolean): Promise<void> {
  const pool = threads > 1 ? await TokenizerPool.create({ path }, threads) : null;
  const tok = pool ? null : loadTokenizer(path);
  const ids = new IdBuffer(1 << 16);
  /** encodes and prints the lines of `texts` (strings of whole lines, but for the input's end) */
  const encode = async (texts: string[]): Promise<void> => {
    if (pool) {
      const flat = await pool.encodeLinesFlat(texts, opts);
      writeOut(idLines(flat.ids, flat.offsets, flat.offsets.length - 1, json));
      pool.release(flat);
      return;
    }
    const offsets: number[] = [0];
    ids.n = 0;
    for (const text of texts) {
      for (let at = 0; at < text.length;) {
        const nl = text.indexOf('\n', at), end = nl < 0 ? text.length : nl;
        tok!.appendEncoded(text.substring(at, end), ids, opts);
        offsets.push(ids.n);
        at = end + 1;
      }
    }
    writeOut(idLines(ids.a, Uint32Array.from(offsets), offsets.length - 1, json));
  };
  const dec = new Utf8Decoder();
  // Each piece read goes on as it is (views of it), but for the line begun in an earlier piece,
  // joined to its start. Strings of 128 KiB and more are fresh pages to V8 (its large-object space),
  // ~20 µs a page to fault in here: so no big concatenation, and pieces read 32 KiB at a time.
  let batch: string[] = [], chars = 0, carry = '', pending = Promise.resolve();
  try {
    for await (const chunk of createReadStream('', { fd: 0, highWaterMark: 1 << 15, autoClose: false }) as AsyncIterable<Buffer>) {
      const d = dec.decode(chunk, true), first = d.indexOf('\n');
      if (first < 0) { carry += d; continue; }
      const last = d.lastIndexOf('\n');
      batch.push(carry + d.substring(0, first + 1));
      if (last > first) batch.push(d.substring(first + 1, last + 1));
      carry = d.substring(last + 1);
      chars += last + 1;
      if (chars < LINES_BATCH_CHARS) continue;
      await pending;  // one batch encodes while the next is read
      pending = encode(batch);
      batch = []; chars = 0;
    }
    carry += dec.decode(new Uint8Array(0));
    if (carry) batch.push(carry);
    await pending;
    await encode(batch);
  } finally {
    await pool?.close();
  }
  if (dec.invalid) process.stderr.write(`dsllm: stdin: ${dec.invalid} invalid UTF-8 sequence(s) replaced by U+FFFD\n`);
}

export function registerTokenizer(program: Command): void {
  const cmd = program.command('tokenizer').description('byte-level BPE: encode, decode, train, convert formats, render chat prompts');

  cmd.command('encode')
    .description('read UTF-8 text from stdin (all of it, nothing stripped) and print its token ids')
    .requiredOption('--tokenizer <file>', 'tokenizer.json, a .gguf vocabulary, a tiktoken rank file, or cl100k_base')
    .option('--add-bos', 'prepend the BOS id', false)
    .option('--json', 'print a JSON array instead of space-separated ids', false)
    .option('--special <mode>', 'special tokens written in the text: none (as text), all (as ids), error, or a comma list', 'none')
    .option('--lines', 'encode each line of stdin on its own (without its newline); print a line of ids for each', false)
    .option('--threads <n>', 'with --lines: worker threads encoding batches of lines (1: this thread)', (v) => Number(v), 1)
    .action(async (o: { tokenizer: string; addBos: boolean; json: boolean; special: string; lines: boolean; threads: number }) => {
      if (!Number.isInteger(o.threads) || o.threads < 1) throw new TokenizerError(`--threads: expected a whole number ≥ 1, got ${o.threads}`, { code: 'E_ARG' });
      if (o.threads > 1 && !o.lines) throw new TokenizerError('--threads needs --lines (one text is encoded on one thread)', { code: 'E_ARG' });
      const opts = { addBos: o.addBos, special: parseSpecial(o.special) };
      if (o.lines) { await encodeLines(o.tokenizer, o.threads, opts, o.json); return; }
      const tok = loadTokenizer(o.tokenizer);
      const dec = new Utf8Decoder();
      const text = dec.decode(readStdin());
      if (dec.invalid) process.stderr.write(`dsllm: stdin: ${dec.invalid} invalid UTF-8 sequence(s) replaced by U+FFFD\n`);
      const ids = Array.from(tok.encode(text, opts));
      writeOut(o.json ? JSON.stringify(ids) + '\n' : ids.join(' ') + '\n');
    });

  cmd.command('decode')
    .description('read token ids from stdin (space-separated or a JSON array) and print the text')
    .requiredOption('--tokenizer <file>', 'tokenizer.json, a .gguf vocabulary, a tiktoken rank file, or cl100k_base')
    .option('--skip-special', 'leave special tokens out', false)
    .option('--json', 'print the text as a JSON string', false)
    .action((o: { tokenizer: string; skipSpecial: boolean; json: boolean }) => {
      const tok = loadTokenizer(o.tokenizer);
      const ids = parseIds(readStdin().toString('utf8'));
      const { text, invalid } = tok.decodeWithStats(ids, { skipSpecial: o.skipSpecial });
      if (invalid) process.stderr.write(`dsllm: decode: ${invalid} invalid UTF-8 sequence(s) replaced by U+FFFD\n`);
      writeOut(o.json ? JSON.stringify(text) + '\n' : text);
    });

  cmd.command('convert')
    .description('write any supported tokenizer as HF tokenizer.json')
    .requiredOption('--tokenizer <file>', 'input tokenizer')
    .requiredOption('--out <file>', 'tokenizer.json to write')
    .action((o: { tokenizer: string; out: string }) => {
      saveHfJson(loadTokenizer(o.tokenizer), o.out);
      process.stderr.write(`wrote ${o.out}\n`);
    });

  cmd.command('train')
    .description('train a byte-level BPE (DeepSeek pre-tokenizer by default) on text files')
    .requiredOption('--vocab-size <n>', 'ordinary tokens, bytes and merges included (specials come on top)', (v) => Number(v))
    .requiredOption('--input <files...>', 'UTF-8 text files (.jsonl: the string fields of each line)')
    .requiredOption('--out <file>', 'tokenizer.json to write')
    .option('--special <tokens...>', 'special tokens (default: DeepSeek BOS and EOS)')
    .option('--pad-to-multiple <n>', 'pad the embedding size to a multiple of n (the paper: 100,015 → 102,400)', (v) => Number(v), 1)
    .option('--pre <name>', 'pre-tokenizer: deepseek-llm, gpt-2, llama-bpe, cl100k_base, …', 'deepseek-llm')
    .option('--threads <n>', 'worker threads for counting words', (v) => Number(v), 2)
    .option('--min-frequency <n>', 'ignore pairs seen fewer times', (v) => Number(v), 2)
    .action(async (o: { vocabSize: number; input: string[]; out: string; special?: string[]; padToMultiple: number; pre: string; threads: number; minFrequency: number }) => {
      const { trainBpe, formatTrainReport } = await import('../tokenizer/trainer.js');
      const res = await trainBpe({
        vocabSize: o.vocabSize, inputs: o.input, specialTokens: o.special, padToMultiple: o.padToMultiple,
        pre: o.pre, threads: o.threads, minFrequency: o.minFrequency,
        log: (m: string) => process.stderr.write(m + '\n'),
      });
      saveHfJson(res.tokenizer, o.out);
      process.stderr.write(formatTrainReport(res) + `\nwrote ${o.out}\n`);
    });

  cmd.command('chat')
    .description('render a chat (JSON array of {role, content} on stdin) with the chat template, print text or ids')
    .option('--tokenizer <file>', 'tokenizer for --ids')
    .option('--template <file>', 'a Jinja chat template (default: DeepSeek LLM chat)')
    .option('--ids', 'print token ids instead of text', false)
    .option('--no-generation-prompt', 'do not end with "Assistant:"')
    .action(async (o: { tokenizer?: string; template?: string; ids: boolean; generationPrompt: boolean }) => {
      const { renderChat } = await import('../tokenizer/chat-template.js');
      let messages: unknown;
      try { messages = JSON.parse(readStdin().toString('utf8')); } catch (e) { throw new TokenizerError(`stdin: not JSON: ${(e as Error).message}`, { code: 'E_CHAT' }); }
      const text = renderChat(messages, { template: o.template ? readFileSync(o.template, 'utf8') : undefined, addGenerationPrompt: o.generationPrompt });
      if (!o.ids) { writeOut(text); return; }
      if (!o.tokenizer) throw new TokenizerError('--ids needs --tokenizer', { code: 'E_CHAT' });
      writeOut(Array.from(loadTokenizer(o.tokenizer).encode(text, { special: 'all' })).join(' ') + '\n');
    });
}
