// BPE training bars (issue 4): a 32k vocabulary on all of ../shared/data/corpus in ≤ 60 s with its
// peak RSS, and memory that stays bounded on a 200 MB input (the corpus repeated with variations).
// Each training runs as its own `dsllm tokenizer train` process so its peak RSS is its own.
//   train-32k-corpus   seconds (bar 60) and peak RSS
//   train-32k-200mb    peak RSS against the corpus run's (bounded: far less than 200 MB / corpus × it)
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { emit, note, repoPath, type BenchOptions } from './common.js';
import { sharedDataPath } from './learning.js';
import { Rng } from '../src/util/rng.js';

interface TrainRun { wallS: number; peakRssMiB: number; inputMB: number }

function trainOnce(inputs: string[], out: string): TrainRun {
  const t0 = performance.now();
  const p = spawnSync(process.execPath, [repoPath('dist', 'src', 'cli', 'index.js'), 'tokenizer', 'train', '--vocab-size', '32000',
    '--input', ...inputs, '--out', out], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallS = (performance.now() - t0) / 1000;
  if (p.status !== 0) throw new Error(`tokenizer train failed (exit ${p.status}): ${p.stderr.slice(-2000)}`);
  const rss = /peak RSS (\d+) MiB/.exec(p.stderr), input = /input ([\d.]+) MB/.exec(p.stderr);
  if (!rss || !input) throw new Error(`tokenizer train: no report in its output:\n${p.stderr.slice(-2000)}`);
  return { wallS, peakRssMiB: Number(rss[1]), inputMB: Number(input[1]) };
}

function corpusFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile()).sort();
}

/** The corpus's lines, shuffled and varied (words swapped, numbers and case changed), to `bytes`:
 *  new text each line so the run cannot lean on exact repeats. Seeded, so the file is reproducible. */
async function variedCorpus(files: string[], path: string, bytes: number): Promise<void> {
  const lines = files.flatMap((f) => readFileSync(f, 'utf8').split('\n')).filter((l) => l.trim().length > 0);
  const rng = new Rng(7), out = createWriteStream(path);
  let written = 0;
  while (written < bytes) {
    let words = lines[rng.int(lines.length)].split(' ');
    const r = rng.uniform();
    if (r < 0.25 && words.length > 2) { const i = rng.int(words.length - 1); [words[i], words[i + 1]] = [words[i + 1], words[i]]; }
    else if (r < 0.5) words.splice(rng.int(words.length), 0, String(rng.int(100000)));
    else if (r < 0.6) words = words.map((w) => w.toUpperCase());
    const line = words.join(' ') + '\n';
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export async function run(opts: BenchOptions): Promise<void> {
  const dir = sharedDataPath('corpus');
  if (!dir) { note('tokenizer-train: skipped, ../shared/data/corpus not found', opts); return; }
  const want = (c: string) => !opts.cases.length || opts.cases.includes(c);
  const outDir = repoPath('bench-out', 'tokenizer-train');
  mkdirSync(outDir, { recursive: true });
  const files = corpusFiles(dir);
  const base = trainOnce(files, join(outDir, 'corpus-32k.json'));
  if (want('train-32k-corpus')) {
    emit({ suite: 'tokenizer-train', case: 'train-32k-corpus', metric: 'train time', unit: 's', ours: base.wallS, peer: 'bar 60 s', peer_value: 60,
      ratio: base.wallS / 60, reps: 1, spread: null, note: `${base.inputMB} MB in ${base.wallS.toFixed(1)} s wall, peak RSS ${base.peakRssMiB} MiB` }, opts);
  }
  if (want('train-32k-200mb')) {
    const big = join(outDir, 'varied-200mb.txt'), bytes = opts.quick ? 40e6 : 200e6;
    if (!existsSync(big) || statSync(big).size < bytes) await variedCorpus(files, big, bytes);
    const r = trainOnce([big], join(outDir, 'varied-32k.json'));
    emit({ suite: 'tokenizer-train', case: 'train-32k-200mb', metric: 'peak RSS', unit: 'MiB', ours: r.peakRssMiB, peer: 'corpus run', peer_value: base.peakRssMiB,
      ratio: r.peakRssMiB / base.peakRssMiB, reps: 1, spread: null,
      note: `${r.inputMB} MB input (${(r.inputMB / base.inputMB).toFixed(0)}× the corpus) in ${r.wallS.toFixed(0)} s: peak RSS ${r.peakRssMiB} MiB vs ${base.peakRssMiB} MiB` }, opts);
  }
}
