// Hand-run timing of the native flash attention on the training shapes (not a test, not a bench
// suite): `npx tsc -p . && node dist/bench/attn-timing.js [reps] [shape...]`. Flops are counted
// causal, as 4·B·H·T²·D/2 for the forward and 2.5× that for the backward. Prints the best wall
// time and the best process CPU time per call (with DSLLM_THREADS=1 the CPU time is immune to
// other processes sharing the cores; with more threads it includes the pool's spinning).
import { attentionKernels as nat } from '../src/backends/native/attention.js';
import type { AttentionArgs } from '../src/core/backend.js';
import { Rng } from '../src/util/rng.js';

const shapes: Record<string, AttentionArgs> = {
  nano: { B: 16, Tq: 256, Tk: 256, H: 4, Hkv: 4, D: 64, causal: true },
  micro: { B: 8, Tq: 512, Tk: 512, H: 8, Hkv: 8, D: 64, causal: true },
  small: { B: 4, Tq: 1024, Tk: 1024, H: 12, Hkv: 4, D: 64, causal: true },
  'decode-small': { B: 1, Tq: 1, Tk: 2048, H: 12, Hkv: 4, D: 64, causal: true },
  'decode-mqa': { B: 1, Tq: 1, Tk: 2048, H: 8, Hkv: 1, D: 128, causal: true },
};

function best(fn: () => void, reps: number): { wall: number; cpu: number } {
  fn();
  let wall = Infinity, cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    wall = Math.min(wall, Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return { wall, cpu };
}

const fmt = (what: string, t: { wall: number; cpu: number }, flops: number) =>
  `${what} ${(t.wall * 1e3).toFixed(2).padStart(8)} ms ${(flops / t.wall / 1e9).toFixed(1).padStart(6)} GFLOP/s` +
  ` (cpu ${(t.cpu * 1e3).toFixed(2).padStart(8)} ms ${(flops / t.cpu / 1e9).toFixed(1).padStart(6)})`;

const reps = Number(process.argv[2] ?? 5);
const only = process.argv.slice(3);
const rng = new Rng(7);
for (const [name, a] of Object.entries(shapes)) {
  if (only.length && !only.includes(name)) continue;
  const kvCap = a.kvCap ?? a.Tk;
  const nq = a.B * a.Tq * a.H * a.D, nkv = a.B * kvCap * a.Hkv * a.D;
  const q = rng.fillNormal(new Float32Array(nq)), k = rng.fillNormal(new Float32Array(nkv)), v = rng.fillNormal(new Float32Array(nkv));
  const out = new Float32Array(nq), lse = new Float32Array(a.B * a.H * a.Tq), dout = rng.fillNormal(new Float32Array(nq));
  const dq = new Float32Array(nq), dk = new Float32Array(nkv), dv = new Float32Array(nkv);
  // causal flops: Tq·Tk − Tq(Tq−1)/2 visible (query, key) pairs, 4·D flops each in the forward
  const pairs = a.Tq * a.Tk - (a.Tq * (a.Tq - 1)) / 2;
  const fwdFlops = 4 * a.B * a.H * pairs * a.D;
  const tf = best(() => nat.attentionForward(out, lse, q, k, v, a), reps);
  let line = `${name.padEnd(13)} ${fmt('fwd', tf, fwdFlops)}`;
  if (a.Tq === a.Tk) {
    const tb = best(() => nat.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, a), reps);
    line += `   ${fmt('bwd', tb, 2.5 * fwdFlops)}`;
  }
  process.stdout.write(line + '\n');
}
