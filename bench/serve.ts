// `bench serve`: aggregate streaming throughput of `dsllm serve` with 16 concurrent clients against
// one client alone, same server process, same run (the bar: ≥ 4×). The server runs in a
// child process (bench/serve-worker.ts) on a random-weight micro model; each client streams a chat
// completion over HTTP and counts tokens by the usage chunk. Aggregate tokens/s = all completion
// tokens ÷ wall time from the first request sent to the last [DONE]. Also checks no request is lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emit, median, note, spreadOf, type BenchOptions } from './common.js';

interface Round { tokens: number; seconds: number; completed: number }

async function streamOne(url: string, model: string, i: number, maxTokens: number): Promise<number> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      model, messages: [{ role: 'user', content: `Client ${i}: tell me a story.` }],
      max_tokens: maxTokens, temperature: 0.8, seed: i, stream: true, stream_options: { include_usage: true },
    }),
  });
  if (!res.ok) throw new Error(`client ${i}: HTTP ${res.status} ${await res.text()}`);
  const text = await res.text();
  if (!text.endsWith('data: [DONE]\n\n')) throw new Error(`client ${i}: stream did not end with [DONE]`);
  const usage = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6))).find((c) => c.usage)?.usage;
  if (!usage) throw new Error(`client ${i}: no usage chunk`);
  return usage.completion_tokens;
}

async function round(url: string, model: string, clients: number, maxTokens: number): Promise<Round> {
  const t0 = performance.now();
  const got = await Promise.allSettled(Array.from({ length: clients }, (_, i) => streamOne(url, model, i, maxTokens)));
  const seconds = (performance.now() - t0) / 1000;
  const ok = got.filter((g): g is PromiseFulfilledResult<number> => g.status === 'fulfilled');
  for (const g of got) if (g.status === 'rejected') process.stderr.write(`bench serve: ${g.reason}\n`);
  return { tokens: ok.reduce((s, g) => s + g.value, 0), seconds, completed: ok.length };
}

function startWorker(preset: string): Promise<{ child: ChildProcess; url: string }> {
  const worker = fileURLToPath(new URL('./serve-worker.js', import.meta.url));
  const child = spawn(process.execPath, [worker, preset], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
    });
    child.on('exit', (code) => reject(new Error(`serve worker exited with ${code}`)));
  });
}

export async function run(opts: BenchOptions): Promise<void> {
  const preset = 'micro';
  const clients = 16;
  const maxTokens = opts.quick ? 48 : 128;
  const reps = opts.quick ? 2 : Math.max(3, opts.reps);
  const { child, url } = await startWorker(preset);
  try {
    await round(url, preset, 2, 8); // warm-up: scratch buffers, JIT
    const one: Round[] = [], many: Round[] = [];
    for (let r = 0; r < reps; r++) {
      one.push(await round(url, preset, 1, maxTokens));
      many.push(await round(url, preset, clients, maxTokens));
    }
    const lost = many.reduce((s, m) => s + (clients - m.completed), 0) + one.reduce((s, m) => s + (1 - m.completed), 0);
    const rate = (r: Round) => r.tokens / r.seconds;
    const single = median(one.map(rate)), agg = median(many.map(rate));
    emit({
      suite: 'serve', case: `${preset} ${clients} clients`, metric: 'aggregate streamed tokens/s', unit: 'tok/s',
      ours: agg, peer: '1 client', peer_value: single, ratio: agg / single, reps, spread: spreadOf(many.map(rate)),
      note: `${maxTokens} tokens per request over HTTP/SSE; ${lost} of ${reps * (clients + 1)} requests lost`,
    }, opts);
    if (lost > 0) note(`bench serve: ${lost} requests failed`, opts);
  } finally {
    child.kill('SIGTERM');
  }
}
