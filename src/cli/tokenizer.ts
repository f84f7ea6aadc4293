// `dsllm tokenizer encode|decode|train|convert|chat`: parse flags, call src/tokenizer, print.
import { readFileSync, writeSync } from 'node:fs';
import type { Command } from 'commander';
import { loadTokenizer, saveHfJson } from '../tokenizer/formats/load.js';
import { Utf8Decoder } from '../tokenizer/utf8.js';
import { TokenizerError } from '../tokenizer/errors.js';
import type { SpecialMode } from '../tokenizer/added-tokens.js';

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

export function registerTokenizer(program: Command): void {
  const cmd = program.command('tokenizer').description('byte-level BPE: encode, decode, train, convert formats, render chat prompts');

  cmd.command('encode')
    .description('read UTF-8 text from stdin (all of it, nothing stripped) and print its token ids')
    .requiredOption('--tokenizer <file>', 'tokenizer.json, a .gguf vocabulary, a tiktoken rank file, or cl100k_base')
    .option('--add-bos', 'prepend the BOS id', false)
    .option('--json', 'print a JSON array instead of space-separated ids', false)
    .option('--special <mode>', 'special tokens written in the text: none (as text), all (as ids), error, or a comma list', 'none')
    .action((o: { tokenizer: string; addBos: boolean; json: boolean; special: string }) => {
      const tok = loadTokenizer(o.tokenizer);
      const dec = new Utf8Decoder();
      const text = dec.decode(readStdin());
      if (dec.invalid) process.stderr.write(`dsllm: stdin: ${dec.invalid} invalid UTF-8 sequence(s) replaced by U+FFFD\n`);
      const ids = Array.from(tok.encode(text, { addBos: o.addBos, special: parseSpecial(o.special) }));
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
