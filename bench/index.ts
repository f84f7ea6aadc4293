// `npm run bench -- <suite> [--json] [--reps N] [--case NAME] [--quick]`
// Every figure is a ratio against a named peer measured in the same run (../shared/BENCH.md).
import type { BenchOptions } from './common.js';

type Suite = (opts: BenchOptions) => Promise<void>;

const suites: Record<string, () => Promise<Suite>> = {
  gemm: async () => (await import('./gemm.js')).run,
  train: async () => (await import('./train.js')).run,
  forward: async () => (await import('./forward.js')).run,
  leak: async () => (await import('./leak.js')).run,
  tokenizer: async () => (await import('./tokenizer.js')).run,
  'tokenizer-train': async () => (await import('./tokenizer-train.js')).run,
  minhash: async () => (await import('./minhash.js')).run,
  dedup: async () => (await import('./dedup.js')).run,
  schedule: async () => (await import('./schedule.js')).run,
  learning: async () => (await import('./learning.js')).run,
  loop: async () => (await import('./loop.js')).run,
  serve: async () => (await import('./serve.js')).run,
  infer: async () => (await import('./infer.js')).run,
  'decode-batch': async () => (await import('./decode-batch.js')).run,
};

function parse(argv: string[]): { names: string[]; opts: BenchOptions } {
  const opts: BenchOptions = { json: false, reps: 5, cases: [], quick: false };
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--quick') opts.quick = true;
    else if (a === '--reps') opts.reps = Number(argv[++i]);
    else if (a === '--case') opts.cases.push(argv[++i]);
    else if (a.startsWith('--')) throw new Error(`bench: unknown option ${a}`);
    else names.push(a);
  }
  return { names, opts };
}

async function main(): Promise<void> {
  const { names, opts } = parse(process.argv.slice(2));
  const chosen = names.length ? names : Object.keys(suites);
  for (const n of chosen) {
    const load = suites[n];
    if (!load) {
      process.stderr.write(`bench: unknown suite '${n}' (suites: ${Object.keys(suites).join(', ')})\n`);
      process.exitCode = 2;
      return;
    }
    await (await load())(opts);
  }
}

main().catch((e) => { process.stderr.write(`bench: ${e instanceof Error ? e.message : e}\n`); process.exitCode = 1; });
