// `dsllm export --model <hf-dir | .gguf> --out x.gguf --type f32|f16|bf16|q8_0|q4_0 [--tokenizer …]`
// Writes a model as GGUF for llama.cpp (architecture `llama`). The tokenizer comes from --tokenizer,
// else the model directory's tokenizer.json, else the GGUF's own vocabulary, else dsllm's byte-level
// one (what `dsllm train` uses without --tokenizer).
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { selectBackend } from '../backends/select.js';
import { HFDirSource } from '../infer/hf-source.js';
import { GgufWeightSource } from '../io/gguf-weights.js';
import { EXPORT_TYPES, exportGguf, type ExportType } from '../io/gguf-export.js';
import { byteTokenizer } from '../io/gguf-tokenizer.js';
import { readGguf } from '../io/gguf.js';
import { loadTokenizer } from '../tokenizer/formats/load.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { UserError } from './errors.js';

interface ExportFlags { model: string; out: string; type: string; tokenizer?: string; pre?: string; chatTemplate?: string; name?: string }

function isGguf(path: string): boolean {
  if (!existsSync(path) || !statSync(path).isFile()) return false;
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === 'GGUF';
  } finally {
    closeSync(fd);
  }
}

/** the tokenizer to ship, and where it came from */
function pickTokenizer(o: ExportFlags, vocab: number): { tok: Tokenizer; from: string } {
  if (o.tokenizer) return { tok: loadTokenizer(o.tokenizer), from: o.tokenizer };
  const inDir = join(o.model, 'tokenizer.json');
  if (existsSync(inDir)) return { tok: loadTokenizer(inDir), from: inDir };
  if (isGguf(o.model) && readGguf(o.model).kv.has('tokenizer.ggml.tokens')) return { tok: loadTokenizer(o.model), from: o.model };
  if (vocab < 257) throw new UserError(`${o.model}: no tokenizer found and vocab_size ${vocab} is too small for the byte-level one (257 ids): give --tokenizer`);
  return { tok: byteTokenizer(vocab), from: 'byte-level (ids 0–255 bytes, 256 EOS)' };
}

/** tokenizer_config.json's chat_template next to the model or tokenizer, if any */
function chatTemplateOf(o: ExportFlags): string | undefined {
  if (o.chatTemplate) {
    if (!existsSync(o.chatTemplate)) throw new UserError(`--chat-template ${o.chatTemplate}: no such file`);
    return readFileSync(o.chatTemplate, 'utf8');
  }
  for (const base of [o.model, o.tokenizer ? join(o.tokenizer, '..') : null]) {
    const p = base ? join(base, 'tokenizer_config.json') : null;
    if (!p || !existsSync(p)) continue;
    try {
      const t = (JSON.parse(readFileSync(p, 'utf8')) as { chat_template?: unknown }).chat_template;
      if (typeof t === 'string') return t;
    } catch (e) {
      throw new UserError(`${p}: invalid JSON: ${(e as Error).message}`);
    }
  }
  return undefined;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a model (HF directory or GGUF) as a GGUF file that llama.cpp runs')
    .requiredOption('--model <path>', 'an HF model directory (config.json + safetensors, e.g. a dsllm checkpoint) or a .gguf')
    .requiredOption('--out <file>', 'the .gguf to write (atomically)')
    .option('--type <type>', `weight type of the matrices: ${EXPORT_TYPES.join(', ')} (norms stay f32)`, 'f32')
    .option('--tokenizer <file>', 'tokenizer.json, a .gguf vocabulary or a dsllm-trained tokenizer (default: the model\'s own, else byte-level)')
    .option('--pre <name>', 'llama.cpp pre-tokenizer name (tokenizer.ggml.pre), when it cannot be detected')
    .option('--chat-template <file>', 'Jinja chat template to embed (default: tokenizer_config.json\'s, or DeepSeek LLM chat\'s for its vocabulary)')
    .option('--name <name>', 'general.name (default: the output file name)')
    .action(async (o: ExportFlags) => {
      if (!EXPORT_TYPES.includes(o.type as ExportType)) throw new UserError(`--type ${o.type}: expected one of ${EXPORT_TYPES.join(', ')}`);
      if (!existsSync(o.model)) throw new UserError(`--model ${o.model}: no such file or directory`);
      await selectBackend();
      const t0 = Date.now();
      // streamed: one tensor in memory at a time, so a 7B checkpoint exports within a few GB
      const src = isGguf(o.model) ? new GgufWeightSource(o.model) : new HFDirSource(o.model);
      const { tok, from } = pickTokenizer(o, src.config.vocab_size);
      const r = exportGguf(src, o.out, { type: o.type as ExportType, tokenizer: tok, pre: o.pre, chatTemplate: chatTemplateOf(o), name: o.name });
      const mb = (statSync(o.out).size / 2 ** 20).toFixed(1);
      process.stderr.write(`wrote ${o.out}: ${r.tensors} tensors, ${mb} MiB, ${o.type}; tokenizer ${from}` +
        (r.fallbacks.length ? `; ${r.fallbacks.length} matrices as f16 (rows not a multiple of 32): ${r.fallbacks.join(', ')}` : '') +
        ` (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    });
}
