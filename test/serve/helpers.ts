// Starting a server on a free port for a test, and reading its responses (JSON or SSE) with fetch.
import { createDsllmServer, type DsllmServer, type ServeOptions } from '../../src/serve/server.js';
import { FakeEngine } from './fake-engine.js';

export interface Running {
  url: string;
  engine: FakeEngine;
  server: DsllmServer;
  close(): Promise<void>;
}

export async function startFake(opts: Partial<ServeOptions> & { delayMs?: number; context?: number; reply?: (prompt: string) => string } = {}): Promise<Running> {
  const engine = new FakeEngine({ delayMs: opts.delayMs, context: opts.context, reply: opts.reply });
  const server = createDsllmServer({ engine, tokenizer: engine.tokenizer, modelId: 'fake', ...opts });
  const addr = await server.listen(0, '127.0.0.1');
  return { url: `http://127.0.0.1:${addr.port}`, engine, server, close: () => server.close() };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any = null;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json, headers: res.headers };
}

/** Every `data:` payload of an SSE body, parsed (the final `[DONE]` kept as the string). */
export function parseSse(text: string): any[] {
  return text.split(/\n\n/).filter((e) => e.startsWith('data: ')).map((e) => {
    const d = e.slice(6);
    return d === '[DONE]' ? d : JSON.parse(d);
  });
}

export const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};
