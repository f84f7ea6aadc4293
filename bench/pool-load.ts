// Hand-run timing of decode-sized work, for the thread pool on a loaded machine (not a test, not a
// bench suite): `npx tsc -p . && DSLLM_THREADS=2 node dist/bench/pool-load.js [reps]`. Prints one
// JSON line: greedy decode of the micro preset with f32 weights (tokens/s, 48 tokens from an empty
// cache after 8 of warm-up) and 200 back-to-back m = 1 GEMMs of micro's MLP shape (µs per call),
// each the median of reps. Run it with and without a competing `node -e "for(;;){}"` to see what a
// descheduled worker costs.
import { selectBackend } from '../src/backends/select.js';
import { kernels } from '../src/core/runtime.js';
import { addon } from '../src/backends/native/addon.js';
import { PRESETS, validateConfig } from '../src/nn/config.js';
import { DeepSeekLM } from '../src/nn/deepseek.js';
import { InferenceModel } from '../src/infer/model.js';
import { Rng } from '../src/util/rng.js';
import { median } from './common.js';

const reps = Math.max(1, Number(process.argv[2] ?? 3));
await selectBackend('native');

function decodeTokS(m: InferenceModel, n: number): number {
  const s = m.newSequence(n + 9);
  const tok = Int32Array.of(1);
  const step = () => {
    const lg = m.step([{ seq: s, tokens: tok }]);
    let best = 0;
    for (let j = 1; j < lg.length; j++) if (lg[j] > lg[best]) best = j;
    tok[0] = best;
  };
  for (let i = 0; i < 8; i++) step();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) step();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  m.freeSequence(s);
  return n / sec;
}

function gemvUs(calls: number): number {
  const k = kernels(), rng = new Rng(1);
  const K = 512, N = 1536;
  const a = rng.fillNormal(new Float32Array(K), 1), b = rng.fillNormal(new Float32Array(K * N), 1), c = new Float32Array(N);
  k.gemm({ m: 1, n: N, k: K, a, b, c });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) k.gemm({ m: 1, n: N, k: K, a, b, c });
  return Number(process.hrtime.bigint() - t0) / 1e3 / calls;
}

const cfg = validateConfig(PRESETS.micro, 'micro');
const base = new DeepSeekLM(cfg, { seed: 1 });
const m = InferenceModel.fromModel(base, { weights: 'f32' });
const dec: number[] = [], gemv: number[] = [];
for (let r = 0; r < reps; r++) {
  dec.push(decodeTokS(m, 48));
  gemv.push(gemvUs(200));
}
const stats = typeof addon.poolStats === 'function' ? addon.poolStats() : null;
console.log(JSON.stringify({
  threads: addon.numThreads(), decode_tok_s: +median(dec).toFixed(1), gemv_us: +median(gemv).toFixed(1),
  decode_all: dec.map((x) => +x.toFixed(1)), pool: stats,
}));
m.dispose();
base.dispose();
