// One measurement in a fresh process (so peak RSS is this run's alone):
//   node dist/bench/train-worker.js <preset> <f32|bf16> <train|forward> <steps> <warmup>
// prints one JSON line with step times and peak RSS.
import { selectBackend } from '../src/backends/select.js';
import { loadConfig } from '../src/nn/config.js';
import { DeepSeekLM } from '../src/nn/deepseek.js';
import { AdamW } from '../src/optim/adamw.js';
import { Tensor } from '../src/core/tensor.js';
import { scope } from '../src/core/scope.js';
import { noGrad } from '../src/core/autograd.js';
import { setComputeDType } from '../src/ops/precision.js';
import { trainStep } from '../src/train/step.js';
import { Rng } from '../src/util/rng.js';

const [preset, dtype, mode, stepsS, warmupS] = process.argv.slice(2);
await selectBackend();
const c = loadConfig(preset);
const B = c.dsllm?.batch ?? 1, T = c.dsllm?.seq_len ?? 256, V = c.vocab_size;
setComputeDType(dtype === 'bf16' ? 'bf16' : 'f32');
const model = new DeepSeekLM(c, { seed: 0 });
const opt = new AdamW(model.namedParameters(), { weightDecay: 0.1 });
const rng = new Rng(1);
const steps = Number(stepsS ?? 5), warmup = Number(warmupS ?? 2);
const times: number[] = [];
const losses: number[] = [];
const rssMiB: number[] = [];
for (let s = 0; s < warmup + steps; s++) {
  const ids = Tensor.empty([B, T], 'i32'), tg = Tensor.empty([B, T], 'i32');
  for (let i = 0; i < B * T; i++) { ids.i32[i] = rng.int(V); tg.i32[i] = rng.int(V); }
  const t0 = process.hrtime.bigint();
  let loss: number;
  if (mode === 'forward') loss = noGrad(() => scope(() => model.loss(ids, tg).item()));
  else loss = trainStep(model, opt, [{ ids, targets: tg }], 3e-4).loss;
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  ids.dispose(); tg.dispose();
  losses.push(loss);
  if (s >= warmup) times.push(dt);
  rssMiB.push(process.memoryUsage.rss() / 2 ** 20);
  if (steps <= 50 || s % 50 === 0) process.stderr.write(`step ${s} ${dt.toFixed(3)} s loss ${loss.toFixed(4)}\n`);
}
const rss = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify({ preset, dtype, mode, tokens_per_step: B * T, times, losses, rss_mib: rssMiB, peak_rss_mib: rss }) + '\n');
