// A small collection with overlapping sources (three "dumps" of TinyStories with shared stories,
// one of Tang poems, one file with bad lines) and the pipeline file that runs every stage on it.
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Rng } from '../../src/util/rng.js';
import { loadPipeline, stagesOf } from '../../src/data/pipeline.js';
import { runTask } from '../../src/data/tasks.js';

export function writeCollection(dir: string, shared: string): void {
  const stories = readFileSync(`${shared}/data/corpus/en/tinystories_sample.txt`, 'utf8').split('<|endoftext|>').map((s) => s.trim()).filter((s) => s.length > 400).slice(0, 240);
  const rng = new Rng(11);
  mkdirSync(join(dir, 'in'), { recursive: true });
  for (let k = 0; k < 3; k++) {
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) {
      // each dump: 40 stories of its own range, 20 drawn from the whole pool (overlaps, some edited)
      const s = i < 40 ? stories[k * 60 + i] : stories[rng.int(stories.length)];
      const text = i >= 50 ? s.replace(/\bthe\b/, 'a') : s;
      lines.push(JSON.stringify({ text, url: `https://example.org/${k}/${i}` }));
    }
    if (k === 2) lines.push('{"text": oops', JSON.stringify({ title: 'no text' }));
    writeFileSync(join(dir, 'in', `dump${k}.jsonl`), lines.join('\n') + '\n');
  }
  const poems = readFileSync(`${shared}/data/corpus/zh/tang_poems.txt`, 'utf8').split('\n').filter((l) => [...l].length > 60).slice(0, 40);
  writeFileSync(join(dir, 'in', 'poems.txt'), poems.concat(poems.slice(0, 5)).join('\n') + '\n');
}

export function pipelineYaml(inDir: string, extra = ''): string {
  return `name: fixture
workDir: run
tasks: 2
seed: 5
inputs:
  - { name: cc0, domain: web, paths: ["${inDir}/dump0.jsonl"] }
  - { name: cc1, domain: web, paths: ["${inDir}/dump1.jsonl"] }
  - { name: cc2, domain: web, paths: ["${inDir}/dump2.jsonl"] }
  - { name: poems, domain: zh, paths: ["${inDir}/poems.txt"], textSplit: line }
filter: { c4: false }
remix: { targets: { web: 0.6, zh: 0.4 } }
tokenize: { valFraction: 0.1, maxTokensPerShard: 20000 }
${extra}`;
}

/** Every output file that carries data (not timings), relative path → contents. */
export function dataFiles(workDir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) { if (f !== 'completions' && f !== 'logs') walk(p); continue; }
      if (/stats-|stats\.json|report\.|\.tmp-/.test(f)) continue;
      out.set(relative(workDir, p), readFileSync(p));
    }
  };
  walk(workDir);
  return out;
}

/** The uninterrupted reference: every task of every stage, in order, in this process. */
export async function referenceRun(root: string): Promise<string> {
  const dir = join(root, 'ref');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'p.yaml'), pipelineYaml(join(root, 'in')));
  const p = loadPipeline(join(dir, 'p.yaml'));
  for (const st of stagesOf(p)) for (let t = 0; t < st.tasks; t++) await runTask(p, st.name, t);
  return p.workDir;
}

