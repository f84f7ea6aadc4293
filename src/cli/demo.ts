// `dsllm demo` (what `npm start` runs): the whole loop on a fresh machine, offline, in a few minutes.
// Byte-level tokens of the built-in WordNet corpus → a nano DeepSeek model trained with the paper's
// recipe (AdamW 0.9/0.95, wd 0.1, clip 1.0, warmup + multi-step LR with η from the paper's scaling
// law) → validation bits-per-byte → greedy and sampled continuations.
import type { Command } from 'commander';
import { mkdirSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backends/select.js';
import { validateConfig, PRESETS, flopsPerToken } from '../nn/config.js';
import { DeepSeekLM } from '../nn/deepseek.js';
import { AdamW } from '../optim/adamw.js';
import { learningRate, type Schedule } from '../optim/schedule.js';
import { Tensor } from '../core/tensor.js';
import { scope } from '../core/scope.js';
import { noGrad } from '../core/autograd.js';
import { kernels } from '../core/runtime.js';
import { setComputeDType } from '../ops/precision.js';
import { trainStep } from '../train/step.js';
import { wordnetCorpus } from '../corpus/wordnet.js';
import { Rng } from '../util/rng.js';

interface DemoOptions { minutes: number; steps?: number; dtype: 'f32' | 'bf16'; seed: number; out: string }

function windows(data: Uint8Array, B: number, T: number, rng: Rng) {
  const ids = Tensor.empty([B, T], 'i32'), tg = Tensor.empty([B, T], 'i32');
  for (let b = 0; b < B; b++) {
    const s = rng.int(data.length - T - 1);
    for (let t = 0; t < T; t++) { ids.i32[b * T + t] = data[s + t]; tg.i32[b * T + t] = data[s + t + 1]; }
  }
  return { ids, targets: tg };
}

/** mean loss (nats per byte) over fixed validation windows */
function validate(model: DeepSeekLM, val: Uint8Array, B: number, T: number): number {
  const rng = new Rng(12345);
  let sum = 0;
  const n = 4;
  for (let i = 0; i < n; i++) {
    const b = windows(val, B, T, rng);
    sum += noGrad(() => scope(() => model.loss(b.ids, b.targets).item()));
    b.ids.dispose(); b.targets.dispose();
  }
  return sum / n;
}

/** continuation of a prompt by full re-encoding (the KV-cache generator is the infer module's job) */
function generate(model: DeepSeekLM, prompt: string, n: number, temperature: number, rng: Rng): string {
  const bytes = [...Buffer.from(prompt, 'utf8')];
  const T = model.config.max_position_embeddings;
  for (let i = 0; i < n; i++) {
    const ctx = bytes.slice(-T);
    const next = noGrad(() => scope(() => {
      const ids = Tensor.from(ctx, [1, ctx.length], 'i32');
      const h = model.hidden(ids);
      const last = h.f32.subarray((ctx.length - 1) * model.config.hidden_size);
      const logits = new Float32Array(model.config.vocab_size);
      kernels().gemm({ m: 1, n: logits.length, k: model.config.hidden_size, a: last, b: model.lm_head.f32, c: logits, transB: true });
      if (temperature <= 0) return logits.indexOf(Math.max(...logits));
      let max = -Infinity;
      for (const l of logits) max = Math.max(max, l);
      const p = Array.from(logits, (l) => Math.exp((l - max) / temperature));
      let u = rng.uniform() * p.reduce((a, b) => a + b, 0);
      for (let j = 0; j < p.length; j++) { u -= p[j]; if (u <= 0) return j; }
      return p.length - 1;
    }));
    bytes.push(next);
    if (next === 10) break;
  }
  return Buffer.from(bytes).toString('utf8');
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const backend = await selectBackend();
  const text = Buffer.from(wordnetCorpus(), 'utf8');
  const split = Math.floor(text.length * 0.9);
  const train = text.subarray(0, split), val = text.subarray(split);
  const cfg = validateConfig({ ...PRESETS.nano, vocab_size: 256, dsllm: undefined });
  const B = 16, T = 256;
  setComputeDType(o.dtype);
  const model = new DeepSeekLM(cfg, { seed: o.seed });
  const opt = new AdamW(model.namedParameters());
  const rng = new Rng(o.seed);
  mkdirSync(o.out, { recursive: true });
  const log = join(o.out, 'log.jsonl');
  writeFileSync(log, '');
  const fpt = flopsPerToken(cfg, T);
  const out = (s: string) => process.stdout.write(s);
  out(`dsllm demo: backend ${backend}, ${o.dtype}; corpus WordNet glosses ${(text.length / 1e6).toFixed(1)} MB (bytes as tokens)\n`);
  out(`model: nano (${cfg.num_hidden_layers} layers, d ${cfg.hidden_size}, ${model.namedParameters().reduce((a, [, p]) => a + p.numel, 0).toLocaleString()} params), batch ${B}×${T}\n`);

  // the step count: given, or fitted to the time budget from the speed of the first steps
  const t0 = Date.now();
  let total = o.steps ?? 0;
  const sched = (): Schedule => {
    // the paper's law η_opt = 0.3118·C^−0.125 (C = M·D, FLOPs), capped for a byte-level nano model
    const C = fpt.M * total * B * T;
    const peak = Math.min(3e-3, 0.3118 * Math.pow(C, -0.125));
    return { kind: 'multistep', peak, warmup: Math.max(10, Math.round(total * 0.02)), total };
  };
  let s: Schedule | null = total ? sched() : null;
  let step = 0, lastPrint = 0;
  while (true) {
    if (!s && step === 3) {
      const per = (Date.now() - t0) / 3 / 1000;
      total = Math.max(20, Math.floor((o.minutes * 60) / per));
      s = sched();
      out(`${per.toFixed(2)} s/step → ${total} steps in ${o.minutes} min; peak LR ${s.peak.toExponential(2)} from η_opt = 0.3118·C^−0.125\n`);
    }
    if (s && step >= total) break;
    const lr = s ? learningRate(s, step) : 1e-4;
    const b = windows(train, B, T, rng);
    const ts = Date.now();
    const r = trainStep(model, opt, [b], lr);
    b.ids.dispose(); b.targets.dispose();
    const dt = (Date.now() - ts) / 1000;
    step++;
    const tokps = (B * T) / dt;
    appendFileSync(log, JSON.stringify({ step, loss: r.loss, lr, grad_norm: r.gradNorm, tok_per_s: tokps, mfu: (tokps * fpt.train_exact) / (o.dtype === 'bf16' ? 950e9 : 475e9) }) + '\n');
    if (Date.now() - lastPrint > 2000 || step === total) {
      lastPrint = Date.now();
      const eta = s ? ((total - step) * (Date.now() - t0)) / step / 1000 : 0;
      const line = `step ${step}/${total || '?'} loss ${r.loss.toFixed(3)} lr ${lr.toExponential(2)} ${Math.round(tokps)} tok/s eta ${eta.toFixed(0)}s`;
      out(process.stdout.isTTY ? `\r${line}   ` : line + '\n');
    }
  }
  if (process.stdout.isTTY) out('\n');
  const vl = validate(model, val, B, T);
  out(`validation: ${vl.toFixed(3)} nats/byte = ${(vl / Math.LN2).toFixed(3)} bits/byte\n`);
  appendFileSync(log, JSON.stringify({ step, val_loss: vl, val_bpb: vl / Math.LN2 }) + '\n');
  const srng = new Rng(o.seed + 1);
  for (const p of ['dog: ', 'happiness: ', 'to run: ']) {
    out(`greedy  > ${generate(model, p, 80, 0, srng).trim()}\n`);
    out(`sampled > ${generate(model, p, 80, 0.8, srng).trim()}\n`);
  }
  out(`log: ${log}\n`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train a nano DeepSeek model on the built-in WordNet corpus for a few minutes and sample from it')
    .option('--minutes <m>', 'training time budget', parseFloat, 2)
    .option('--steps <n>', 'fixed number of steps (overrides --minutes)', (v) => parseInt(v, 10))
    .option('--dtype <d>', 'compute precision: bf16 (mixed, fp32 master weights) or f32', 'bf16')
    .option('--seed <n>', 'random seed', (v) => parseInt(v, 10), 1337)
    .option('--out <dir>', 'output directory for logs', 'runs/demo')
    .action((opts: DemoOptions) => runDemo(opts));
}
