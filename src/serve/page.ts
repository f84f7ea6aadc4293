// The web chat page: one self-contained HTML file (inline CSS and JS, nothing fetched from elsewhere)
// kept as chat-page.html beside this file's source, so it can be edited as HTML. tsc does not copy
// it to dist/, so it is looked up next to the compiled file first, then in the source tree.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function chatPageHtml(): string {
  if (cached !== null) return cached;
  const candidates = [new URL('./chat-page.html', import.meta.url), new URL('../../../src/serve/chat-page.html', import.meta.url)];
  for (const u of candidates) {
    const p = fileURLToPath(u);
    if (existsSync(p)) return (cached = readFileSync(p, 'utf8'));
  }
  throw new Error(`chat page not found (looked for ${candidates.map((u) => fileURLToPath(u)).join(', ')})`);
}
