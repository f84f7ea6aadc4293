// Readers: plain text, JSONL (.gz, .zst) and Parquet files, from paths, directories and globs.
// Every document is tagged with its source ("dump") and domain and gets an id that survives every
// stage. Bad input (malformed JSON, invalid UTF-8, empty or giant documents, missing text fields,
// unreadable files) never crashes the reader and is never dropped silently: each one is counted by
// reason and written to the quarantine file with its source, file and line.
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { Doc, InputSpec } from './types.js';
import type { Quarantine } from './quarantine.js';

/** Documents above this size are quarantined as `giant` (bytes of UTF-8). */
export const DEFAULT_MAX_DOC_BYTES = 10 * 1024 * 1024;

export type Format = 'text' | 'jsonl' | 'parquet';

export function formatOf(path: string, declared: InputSpec['format']): Format {
  if (declared && declared !== 'auto') return declared;
  const p = path.toLowerCase().replace(/\.(gz|zst)$/, '');
  if (p.endsWith('.jsonl') || p.endsWith('.ndjson') || p.endsWith('.json')) return 'jsonl';
  if (p.endsWith('.parquet')) return 'parquet';
  return 'text';
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') { re += '.*'; i++; if (glob[i + 1] === '/') i++; } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if ('\\^$.|+()[]{}'.includes(c)) re += '\\' + c;
    else re += c;
  }
  return new RegExp('^' + re + '$');
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

/**
 * Expands files, directories (recursively) and globs (`*`, `**`, `?`) into a sorted list of files.
 * A pattern that matches nothing is an error: a typo must not silently produce an empty dataset.
 */
export function expandPaths(patterns: readonly string[], baseDir: string): string[] {
  const found = new Set<string>();
  for (const raw of patterns) {
    const pat = isAbsolute(raw) ? raw : resolve(baseDir, raw);
    const before = found.size;
    if (/[*?]/.test(pat)) {
      const parts = pat.split(sep);
      const firstGlob = parts.findIndex((p) => /[*?]/.test(p));
      const root = parts.slice(0, firstGlob).join(sep) || sep;
      const files: string[] = [];
      try { walk(root, files); } catch { /* a missing root matches nothing */ }
      const re = globToRegExp(pat.split(sep).join('/'));
      for (const f of files) if (re.test(f.split(sep).join('/'))) found.add(f);
    } else {
      let st;
      try { st = statSync(pat); } catch { throw new Error(`input path ${raw}: not found (resolved to ${pat})`); }
      if (st.isDirectory()) { const files: string[] = []; walk(pat, files); files.forEach((f) => found.add(f)); } else found.add(pat);
    }
    if (found.size === before) throw new Error(`input pattern ${raw}: matches no file (resolved to ${pat})`);
  }
  return [...found].sort();
}

/** Decompressed bytes of a file, chunk by chunk (.gz through zlib, .zst through fzstd). */
async function* byteChunks(path: string): AsyncGenerator<Uint8Array> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.zst')) {
    const queue: Uint8Array[] = [];
    const dec = new Decompress((chunk) => { queue.push(chunk); });
    for await (const buf of createReadStream(path)) {
      dec.push(buf as Buffer);
      while (queue.length) yield queue.shift()!;
    }
    dec.push(new Uint8Array(0), true);
    while (queue.length) yield queue.shift()!;
    return;
  }
  const stream = lower.endsWith('.gz') ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  for await (const buf of stream) yield buf as Buffer;
}

export interface RawLine { bytes: Buffer | null; lineNo: number; byteLen: number }

/**
 * Splits a byte stream into lines (without the trailing \n or \r\n). A line longer than maxBytes is
 * not kept in memory: it comes back with bytes = null and its full length.
 */
export async function* lines(chunks: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let partLen = 0, lineNo = 0, giant = false;
  const emit = (): RawLine => {
    lineNo++;
    let b: Buffer | null = null;
    if (!giant) {
      b = parts.length === 1 ? parts[0] : Buffer.concat(parts, partLen);
      if (b.length && b[b.length - 1] === 0x0d) b = b.subarray(0, b.length - 1);
    }
    const r = { bytes: b, lineNo, byteLen: partLen };
    parts = []; partLen = 0; giant = false;
    return r;
  };
  const add = (b: Buffer) => {
    partLen += b.length;
    if (giant) return;
    if (partLen > maxBytes) { giant = true; parts = []; return; }
    parts.push(b);
  };
  for await (const chunk of chunks) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) { if (start < buf.length) add(buf.subarray(start)); break; }
      add(buf.subarray(start, nl));
      yield emit();
      start = nl + 1;
    }
  }
  if (partLen > 0) yield emit();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(b: Buffer): string | null {
  try { return utf8.decode(b); } catch { return null; }
}

export interface ReadContext {
  quarantine: Quarantine;
  /** the folder that ids are made relative to (the pipeline file's folder) */
  baseDir: string;
  maxDocBytes?: number;
}

/** Reads one file of an input. Never throws for bad data; quarantines it instead. */
export async function* readFile(file: string, input: InputSpec, ctx: ReadContext): AsyncGenerator<Doc> {
  const max = ctx.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
  const rel = relative(ctx.baseDir, file).split(sep).join('/');
  const q = ctx.quarantine;
  const where = (line: number) => ({ source: input.name, file: rel, line });
  const make = (text: string, key: string, idv?: unknown): Doc => ({
    id: idv !== undefined && idv !== null && idv !== '' ? `${input.name}/${String(idv)}` : `${input.name}/${rel}${key}`,
    text, source: input.name, domain: input.domain ?? input.name,
  });
  const checkText = (text: string, line: number, bytes: number): boolean => {
    if (bytes > max) { q.add('giant', where(line), `${bytes} bytes > ${max}`); return false; }
    if (text.trim() === '') { q.add('empty', where(line)); return false; }
    return true;
  };
  const fmt = formatOf(file, input.format);
  try {
    if (fmt === 'parquet') {
      yield* readParquet(file, input, ctx, make, checkText);
      return;
    }
    const split = input.textSplit ?? 'file';
    if (fmt === 'text' && split === 'file') {
      const parts: Buffer[] = [];
      let n = 0;
      for await (const c of byteChunks(file)) { n += c.length; if (n <= max) parts.push(Buffer.from(c)); }
      if (n > max) { q.add('giant', where(0), `${n} bytes > ${max}`); return; }
      const text = decode(Buffer.concat(parts));
      if (text === null) { q.add('invalid_utf8', where(0)); return; }
      if (checkText(text, 0, n)) yield make(text, '');
      return;
    }
    let acc: string[] = [];
    let accStart = 1, accBytes = 0;
    for await (const l of lines(byteChunks(file), max)) {
      if (l.bytes === null) { q.add('giant', where(l.lineNo), `line of ${l.byteLen} bytes > ${max}`); continue; }
      const s = decode(l.bytes);
      if (s === null) { q.add('invalid_utf8', where(l.lineNo), l.bytes.subarray(0, 200).toString('latin1')); continue; }
      if (fmt === 'jsonl') {
        if (s.trim() === '') { q.add('empty', where(l.lineNo)); continue; }
        let obj: unknown;
        try { obj = JSON.parse(s); } catch (e) { q.add('malformed_json', where(l.lineNo), s.slice(0, 200)); continue; }
        const field = input.textField ?? 'text';
        if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) { q.add('malformed_json', where(l.lineNo), 'not a JSON object'); continue; }
        const rec = obj as Record<string, unknown>;
        const text = rec[field];
        if (typeof text !== 'string') { q.add('missing_text', where(l.lineNo), `field '${field}' ${text === undefined ? 'missing' : 'is ' + typeof text}`); continue; }
        if (checkText(text, l.lineNo, Buffer.byteLength(text))) yield make(text, `#${l.lineNo}`, input.idField ? rec[input.idField] : undefined);
      } else if (split === 'line') {
        if (checkText(s, l.lineNo, l.bytes.length)) yield make(s, `#${l.lineNo}`);
      } else {
        // separator mode: documents are the lines between separator lines (e.g. `<|endoftext|>`)
        if (s.trim() === split) {
          const text = acc.join('\n');
          if (checkText(text, accStart, accBytes)) yield make(text, `#${accStart}`);
          acc = []; accStart = l.lineNo + 1; accBytes = 0;
        } else {
          acc.push(s); accBytes += l.bytes.length + 1;
          if (accBytes > max) { q.add('giant', where(accStart), `document over ${max} bytes`); acc = []; accBytes = 0; accStart = l.lineNo + 1; }
        }
      }
    }
    if (acc.length) {
      const text = acc.join('\n');
      if (checkText(text, accStart, accBytes)) yield make(text, `#${accStart}`);
    }
  } catch (e) {
    q.add('unreadable_file', where(0), e instanceof Error ? e.message : String(e));
  }
}

async function* readParquet(
  file: string, input: InputSpec, ctx: ReadContext,
  make: (t: string, key: string, idv?: unknown) => Doc, checkText: (t: string, line: number, bytes: number) => boolean,
): AsyncGenerator<Doc> {
  const buf = await asyncBufferFromFile(file);
  const meta = await parquetMetadataAsync(buf);
  const field = input.textField ?? 'text';
  const columns = input.idField ? [field, input.idField] : [field];
  let row = 0;
  for (const rg of meta.row_groups) {
    const n = Number(rg.num_rows);
    const rows = await parquetReadObjects({ file: buf, metadata: meta, columns, rowStart: row, rowEnd: row + n });
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as Record<string, unknown>;
      const text = r[field];
      const at = { source: input.name, file: relative(ctx.baseDir, file).split(sep).join('/'), line: row + i + 1 };
      if (typeof text !== 'string') { ctx.quarantine.add('missing_text', at, `column '${field}' ${text == null ? 'null/missing' : 'is ' + typeof text}`); continue; }
      if (checkText(text, row + i + 1, Buffer.byteLength(text))) yield make(text, `#${row + i + 1}`, input.idField ? r[input.idField] : undefined);
    }
    row += n;
  }
}

/** The (input, file) pairs of a pipeline in a fixed order; task t of N reads entries t, t+N, t+2N, … */
export interface FileEntry { input: number; file: string }

export function listFiles(inputs: readonly InputSpec[], baseDir: string): FileEntry[] {
  const out: FileEntry[] = [];
  inputs.forEach((inp, i) => { for (const f of expandPaths(inp.paths, baseDir)) out.push({ input: i, file: f }); });
  return out;
}

export function filesForTask(all: readonly FileEntry[], task: number, tasks: number): FileEntry[] {
  return all.filter((_, i) => i % tasks === task);
}

/** All documents of a list of inputs, in order. */
export async function* readInputs(inputs: readonly InputSpec[], ctx: ReadContext, files?: readonly FileEntry[]): AsyncGenerator<Doc> {
  for (const fe of files ?? listFiles(inputs, ctx.baseDir)) yield* readFile(fe.file, inputs[fe.input], ctx);
}
