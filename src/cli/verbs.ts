// The list of verbs. Adding a verb = one file exporting register<Verb>(program) + one line here.
// Verbs load on demand: `dsllm tokenizer encode` imports the tokenizer, not the data pipeline,
// trainer and server (all of them together took ~0.45 s to load; help still lists every verb).
import type { Command } from 'commander';

type Register = (program: Command) => void;
const VERBS: [name: string, load: () => Promise<Register>][] = [
  ['info', async () => (await import('./info.js')).registerInfo],
  ['data', async () => (await import('./data.js')).registerData],
  ['tokenizer', async () => (await import('./tokenizer.js')).registerTokenizer],
  ['train', async () => (await import('./train.js')).registerTrain],
  ['scaling', async () => (await import('./scaling.js')).registerScaling],
  ['export', async () => (await import('./export.js')).registerExport],
  ['demo', async () => (await import('./demo.js')).registerDemo],
  ['generate', async () => (await import('./generate.js')).registerGenerate],
  ['chat', async () => (await import('./chat.js')).registerChat],
  ['serve', async () => (await import('./serve.js')).registerServe],
];

/** Registers `verb` alone when it is one of ours, else every verb (help, version, typos). */
export async function registerVerbs(program: Command, verb?: string): Promise<void> {
  const only = VERBS.filter(([name]) => name === verb);
  for (const [, load] of only.length ? only : VERBS) (await load())(program);
}
