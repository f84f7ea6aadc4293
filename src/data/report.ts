// The pipeline's report: report.json (the data) and report.md + dedup-curve.svg (rendered from it).
// Counts, rates, removals per rule, quarantine per reason, mixture before/after, timings.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { PAPER_TABLE1, type RatePoint } from './dedup/lsh.js';
import { readJson, writeJson } from './docs-io.js';
import type { Pipeline } from './pipeline.js';
import type { DedupStageStats, FilterStats, ReadStats, RemixStats, TokenizeStats } from './stages.js';

const pad = (t: number) => String(t).padStart(5, '0');

function sumRecords(rs: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export interface PipelineReport {
  name: string;
  read: { docs: number; bytes: number; bySource: Record<string, number>; quarantine: Record<string, number>; seconds: number };
  dedup: DedupStageStats | null;
  filter: { docs: number; kept: number; removedByRule: Record<string, number>; languages: Record<string, number>; seconds: number } | null;
  remix: { before: Record<string, number>; after: Record<string, number>; factor: Record<string, number>; unit: string; seconds: number } | null;
  tokenize: { trainTokens: number; valTokens: number; trainDocs: number; valDocs: number; shards: number; tokenizer: string; seconds: number } | null;
}

export function collectReport(p: Pipeline): PipelineReport {
  const N = p.config.tasks, w = p.workDir;
  const each = <T>(dir: string): T[] => {
    const paths = Array.from({ length: N }, (_, t) => join(w, dir, `stats-${pad(t)}.json`));
    return paths.every((f) => existsSync(f)) ? paths.map((f) => readJson<T>(f)) : [];
  };
  const rs = each<ReadStats>('read');
  const fs = each<FilterStats>('filter');
  const rep: PipelineReport = {
    name: p.config.name,
    read: {
      docs: rs.reduce((a, s) => a + s.docs, 0), bytes: rs.reduce((a, s) => a + s.bytes, 0),
      bySource: Object.fromEntries(p.config.inputs.map((i) => [i.name, sumRecords(rs.map((s) => s.bySource.docs))[i.name] ?? 0])), quarantine: sumRecords(rs.map((s) => s.quarantine)),
      seconds: rs.reduce((a, s) => a + s.seconds, 0),
    },
    dedup: p.config.dedup && existsSync(join(w, 'dedup', 'stats.json')) ? readJson<DedupStageStats>(join(w, 'dedup', 'stats.json')) : null,
    filter: !fs.length ? null : {
      docs: fs.reduce((a, s) => a + s.docs, 0), kept: fs.reduce((a, s) => a + s.kept, 0),
      removedByRule: sumRecords(fs.map((s) => s.removedByRule)), languages: sumRecords(fs.map((s) => s.languages)),
      seconds: fs.reduce((a, s) => a + s.seconds, 0),
    },
    remix: null, tokenize: null,
  };
  const rx = p.config.remix;
  const ms = each<RemixStats>('remix');
  if (rx && ms.length) {
    const unit = rx.unit;
    rep.remix = {
      before: sumRecords(ms.map((s) => (unit === 'bytes' ? s.before.bytes : s.before.docs))),
      after: sumRecords(ms.map((s) => (unit === 'bytes' ? s.after.bytes : s.after.docs))),
      factor: ms[0]?.factor ?? {}, unit, seconds: ms.reduce((a, s) => a + s.seconds, 0),
    };
  }
  const ts = each<TokenizeStats>('shards');
  if (p.config.tokenize && ts.length) {
    rep.tokenize = {
      trainTokens: ts.reduce((a, s) => a + s.train.tokens, 0), valTokens: ts.reduce((a, s) => a + s.val.tokens, 0),
      trainDocs: ts.reduce((a, s) => a + s.train.docs, 0), valDocs: ts.reduce((a, s) => a + s.val.docs, 0),
      shards: ts.reduce((a, s) => a + s.train.shards.length + s.val.shards.length, 0), tokenizer: ts[0]?.tokenizer ?? '',
      seconds: ts.reduce((a, s) => a + s.seconds, 0),
    };
  }
  return rep;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** An SVG line plot of dedup rate vs number of sources, with the paper's Table 1 for shape. */
export function curveSvg(curve: readonly RatePoint[]): string {
  const W = 480, H = 300, L = 50, B = 40, R = 20, T = 20;
  const maxX = Math.max(curve.length, 1);
  const x = (k: number) => L + ((k - 1) / Math.max(maxX - 1, 1)) * (W - L - R);
  const y = (r: number) => H - B - r * (H - B - T);
  const pts = curve.map((c) => `${x(c.sources).toFixed(1)},${y(c.rate).toFixed(1)}`).join(' ');
  const grid = [0, 0.25, 0.5, 0.75, 1].map((r) => `<line x1="${L}" x2="${W - R}" y1="${y(r)}" y2="${y(r)}" stroke="#ddd"/><text x="${L - 6}" y="${y(r) + 4}" font-size="11" text-anchor="end">${r * 100}%</text>`).join('');
  const ticks = curve.map((c) => `<text x="${x(c.sources)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${c.sources}</text>`).join('');
  const dots = curve.map((c) => `<circle cx="${x(c.sources)}" cy="${y(c.rate)}" r="3" fill="#1f77b4"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>${grid}${ticks}` +
    `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${pts}"/>${dots}` +
    `<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="12" text-anchor="middle">sources deduplicated together</text>` +
    `<text x="14" y="${(T + H - B) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">documents removed</text></svg>\n`;
}

export function renderMarkdown(r: PipelineReport): string {
  const o: string[] = [`# Data pipeline report: ${r.name}`, ''];
  o.push('## Read', '', `${r.read.docs} documents, ${(r.read.bytes / 1e6).toFixed(2)} MB, ${r.read.seconds.toFixed(1)} task-seconds.`, '');
  o.push('| source | documents |', '|---|---|', ...Object.entries(r.read.bySource).map(([k, v]) => `| ${k} | ${v} |`), '');
  const q = Object.entries(r.read.quarantine);
  o.push(q.length ? `Quarantined (read/quarantine-*.jsonl): ${q.map(([k, v]) => `${k} ${v}`).join(', ')}.` : 'Quarantined: none.', '');
  if (r.dedup) {
    const d = r.dedup;
    o.push('## Dedup (one global index across all sources)', '',
      `${d.docs} documents: ${d.exactRemoved} exact copies and ${d.nearRemoved} near duplicates removed (${pct((d.exactRemoved + d.nearRemoved) / Math.max(d.docs, 1))}), ${d.seconds.toFixed(1)} s.`, '',
      '| sources deduplicated together | last source added | documents | removed | dedup rate |', '|---|---|---|---|---|',
      ...d.curve.map((c) => `| ${c.sources} | ${c.lastSource} | ${c.docs} | ${c.removed} | ${pct(c.rate)} |`), '',
      '![dedup rate vs sources](dedup-curve.svg)', '',
      `For shape, the paper's Table 1 (Common Crawl dumps → rate): ${PAPER_TABLE1.map(([k, v]) => `${k} → ${v}%`).join(', ')}.`, '');
  }
  if (r.filter) o.push('## Filter', '', `${r.filter.docs} documents in, ${r.filter.kept} kept (${pct(r.filter.kept / Math.max(r.filter.docs, 1))}), ${r.filter.seconds.toFixed(1)} task-seconds.`, '',
    '| rule | removed |', '|---|---|', ...Object.entries(r.filter.removedByRule).sort((a, b) => b[1] - a[1]).map(([k, v]) => `| ${k} | ${v} |`), '');
  const langs = Object.entries(r.filter?.languages ?? {}).sort((a, b) => b[1] - a[1]);
  if (langs.length) o.push(`Languages: ${langs.map(([k, v]) => `${k || '?'} ${v}`).join(', ')}.`, '');
  if (r.remix) {
    const m = r.remix;
    const tb = Object.values(m.before).reduce((a, b) => a + b, 0), ta = Object.values(m.after).reduce((a, b) => a + b, 0);
    o.push(`## Remix (by ${m.unit})`, '', '| group | before | share | factor | after | share |', '|---|---|---|---|---|---|',
      ...Object.keys(m.factor).map((g) => `| ${g} | ${m.before[g] ?? 0} | ${pct((m.before[g] ?? 0) / Math.max(tb, 1))} | ${(m.factor[g] ?? 0).toFixed(3)} | ${m.after[g] ?? 0} | ${pct((m.after[g] ?? 0) / Math.max(ta, 1))} |`), '');
  }
  if (r.tokenize) {
    const t = r.tokenize;
    o.push('## Tokenize', '', `Tokenizer ${t.tokenizer}: train ${t.trainTokens} tokens (${t.trainDocs} docs), validation ${t.valTokens} tokens (${t.valDocs} docs), ${t.shards} shards, ${t.seconds.toFixed(1)} task-seconds.`, '');
  }
  return o.join('\n');
}

export function writeReport(p: Pipeline): void {
  const r = collectReport(p);
  writeJson(join(p.workDir, 'report.json'), r);
  if (r.dedup) writeFileAtomic(join(p.workDir, 'dedup-curve.svg'), curveSvg(r.dedup.curve));
  writeFileAtomic(join(p.workDir, 'report.md'), renderMarkdown(r));
}
