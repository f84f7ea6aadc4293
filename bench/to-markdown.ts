// Turns `npm run bench -- <suite> --json` output (one object per line, on stdin) into the Markdown
// tables of the README: `npm run bench -- gemm train --json | node dist/bench/to-markdown.js`.
import { readFileSync } from 'node:fs';
import type { BenchRow } from './common.js';

const rows: BenchRow[] = readFileSync(0, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const f = (x: number | null, d = 1) => (x === null || x === undefined ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const suites = [...new Set(rows.map((r) => r.suite))];
for (const s of suites) {
  const rs = rows.filter((r) => r.suite === s);
  process.stdout.write(`\n| ${s} case | ours | peer | peer value | ratio | spread | note |\n|---|---|---|---|---|---|---|\n`);
  for (const r of rs) {
    process.stdout.write(`| ${r.case} | ${f(r.ours)} ${r.unit} | ${r.peer ?? '—'} | ${f(r.peer_value)} | ${f(r.ratio, 2)} | ${r.spread === null ? '—' : `${(r.spread * 100).toFixed(0)}%`} | ${r.note ?? ''} |\n`);
  }
}
