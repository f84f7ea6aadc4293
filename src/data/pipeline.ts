// A pipeline file (YAML) and the stages it implies. Parsed once with zod; every path in it is
// relative to the file's folder.
//
// @example pipeline.yaml
//   workDir: run
//   tasks: 4
//   seed: 42
//   inputs:
//     - { name: cc-2019, domain: web, paths: ["dumps/2019/*.jsonl.gz"] }
//     - { name: books, domain: books, paths: [books/], textSplit: "<|endoftext|>" }
//   dedup: { verifyThreshold: 0.7 }
//   filter: { c4: false }
//   remix: { targets: { web: 0.7, books: 0.3 } }
//   tokenize: { tokenizer: byte, valFraction: 0.01 }
//   executor: { type: local, workers: 2 }
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_MINHASH } from './dedup/minhash.js';

const Input = z.object({
  name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'source names use letters, digits, . _ -'),
  domain: z.string().min(1).optional(),
  paths: z.array(z.string().min(1)).min(1),
  format: z.enum(['auto', 'text', 'jsonl', 'parquet']).default('auto'),
  textField: z.string().default('text'),
  idField: z.string().optional(),
  textSplit: z.string().default('file'),
}).strict();

const Dedup = z.object({
  nGrams: z.number().int().min(1).default(DEFAULT_MINHASH.nGrams),
  bands: z.number().int().min(1).default(DEFAULT_MINHASH.bands),
  rows: z.number().int().min(1).default(DEFAULT_MINHASH.rows),
  seed: z.number().int().default(DEFAULT_MINHASH.seed),
  verifyThreshold: z.number().min(0).max(1).default(DEFAULT_MINHASH.verifyThreshold),
  /** tasks of the bucket stage (each takes bands b ≡ t mod bucketTasks); default min(bands, tasks) */
  bucketTasks: z.number().int().min(1).optional(),
}).strict();

const Remix = z.object({
  by: z.enum(['domain', 'source']).default('domain'),
  unit: z.enum(['bytes', 'docs']).default('bytes'),
  targets: z.record(z.string(), z.number().min(0)),
  total: z.number().positive().optional(),
}).strict();

const Tokenize = z.object({
  /** `byte`; `{ path }`: a tokenizer file (tokenizer.json, .gguf, tiktoken ranks; relative to the
   * pipeline file) or `cl100k_base`, each document ending with its EOS; or a module (path relative to
   * the pipeline file, or a package) whose `export` (default `createTokenizer`) returns a
   * ShardTokenizer `{ encode, eosId, hash, vocabSize? }` */
  tokenizer: z.union([
    z.literal('byte'),
    z.object({ path: z.string().min(1) }).strict(),
    z.object({ module: z.string().min(1), export: z.string().default('createTokenizer'), options: z.record(z.string(), z.unknown()).default({}) }).strict(),
  ]).default('byte'),
  valFraction: z.number().min(0).max(1).default(0.01),
  maxTokensPerShard: z.number().int().positive().default(1 << 28),
}).strict();

const Executor = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local'), workers: z.number().int().min(1).default(2) }).strict(),
  z.object({
    type: z.literal('slurm'),
    partition: z.string().optional(),
    cpusPerTask: z.number().int().min(1).default(1),
    memPerCpu: z.string().default('2G'),
    time: z.string().default('1:00:00'),
    maxArrayParallel: z.number().int().min(1).optional(),
    maxArraySize: z.number().int().min(1).default(1001),
    sbatchArgs: z.array(z.string()).default([]),
  }).strict(),
]);

export const PipelineSchema = z.object({
  name: z.string().default('data'),
  workDir: z.string().default('run'),
  seed: z.number().int().default(42),
  tasks: z.number().int().min(1).max(100_000).default(2),
  maxDocBytes: z.number().int().positive().default(10 * 1024 * 1024),
  inputs: z.array(Input).min(1),
  dedup: z.union([z.literal(false), Dedup]).default(Dedup.parse({})),
  filter: z.union([z.literal(false), z.record(z.string(), z.unknown())]).default({}),
  remix: z.union([z.literal(false), Remix]).default(false),
  tokenize: z.union([z.literal(false), Tokenize]).default(false),
  executor: Executor.default({ type: 'local', workers: 2 }),
}).strict().superRefine((p, ctx) => {
  const names = p.inputs.map((i) => i.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) ctx.addIssue({ code: 'custom', message: `inputs: source name '${dup}' appears twice; names must be unique`, path: ['inputs'] });
});

export type PipelineConfig = z.infer<typeof PipelineSchema>;

export interface Pipeline {
  config: PipelineConfig;
  /** the pipeline file (absolute), or '' when built in code */
  file: string;
  /** folder paths are relative to */
  baseDir: string;
  /** absolute work folder */
  workDir: string;
}

export function parsePipeline(raw: unknown, file: string, baseDir: string): Pipeline {
  const r = PipelineSchema.safeParse(raw);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new Error(`${file || 'pipeline'}: ${msg}`);
  }
  return { config: r.data, file, baseDir, workDir: resolve(baseDir, r.data.workDir) };
}

export function loadPipeline(path: string): Pipeline {
  const file = resolve(path);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new Error(`pipeline ${path}: cannot read (${(e as Error).message})`); }
  let raw: unknown;
  try { raw = parseYaml(text); } catch (e) { throw new Error(`pipeline ${path}: not valid YAML (${(e as Error).message})`); }
  return parsePipeline(raw, file, dirname(file));
}

export type StageName = 'read' | 'buckets' | 'dedup' | 'filter' | 'remix' | 'tokenize' | 'report';

export interface StageInfo { name: StageName; tasks: number }

/** The stages a pipeline runs, in order, with their task counts. */
export function stagesOf(p: Pipeline): StageInfo[] {
  const c = p.config, N = c.tasks;
  const out: StageInfo[] = [{ name: 'read', tasks: N }];
  if (c.dedup) out.push({ name: 'buckets', tasks: bucketTasks(c) }, { name: 'dedup', tasks: 1 });
  out.push({ name: 'filter', tasks: N });
  if (c.remix) out.push({ name: 'remix', tasks: N });
  if (c.tokenize) out.push({ name: 'tokenize', tasks: N });
  out.push({ name: 'report', tasks: 1 });
  return out;
}

export function bucketTasks(c: PipelineConfig): number {
  return c.dedup ? Math.min(c.dedup.bucketTasks ?? Math.min(c.dedup.bands, c.tasks), c.dedup.bands) : 0;
}
