// GEMM suite: native.gemm against OpenBLAS (numpy, AVX-512 kernel forced with
// OPENBLAS_CORETYPE=SkylakeX) for f32 and against torch (oneDNN, AVX512-BF16) for bf16, in the same run.
//   f32-<n>, bf16-<n>        square n x n x n (n = 1024, 2048, 4096; --quick: 1024), peers from
//                            ../shared/bench/peers/gemm_numpy.py and gemm_torch.py
//   f32-<M>x<K>x<N>[-nt|-tn] the "micro" preset's training products (d_model 512, FFN 1536, vocab
//                            8192, 8 x 512 tokens): forward (NN), B transposed (NT: weights stored
//                            [out, in], or dX = dY·Wᵀ) and A transposed (TN: dW = Xᵀ·dY), numpy
//                            timed inline on the same shapes and transposes (no copies: numpy hands
//                            the transposed views to sgemm).
// GFLOP/s = 2·M·N·K / seconds; median of --reps after one warm-up, spread = (max − min) / median.
// Peers get OPENBLAS_CORETYPE=SkylakeX and 2 threads (the numbers in ../shared/BENCH.md).
import type { BenchOptions, BenchRow } from './common.js';
import { emit, median, note, peersDir, pythonHas, runPython, spreadOf, timeReps } from './common.js';
import { gemmKernels } from '../src/backends/native/gemm.js';
import { addon } from '../src/backends/native/addon.js';

interface Shape { name: string; m: number; k: number; n: number; transA: boolean; transB: boolean; bf16: boolean }

const peerEnv = { OPENBLAS_CORETYPE: 'SkylakeX', OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2' };

function squareShapes(quick: boolean): Shape[] {
  const sizes = quick ? [1024] : [1024, 2048, 4096];
  const out: Shape[] = [];
  for (const bf16 of [false, true]) {
    for (const n of sizes) out.push({ name: `${bf16 ? 'bf16' : 'f32'}-${n}`, m: n, k: n, n, transA: false, transB: false, bf16 });
  }
  return out;
}

function microShapes(quick: boolean): Shape[] {
  const T = 8 * 512;  // tokens per batch
  const layers: Array<[number, number]> = quick ? [[512, 1536]] : [[512, 1536], [1536, 512], [512, 8192], [512, 512]];
  const out: Shape[] = [];
  for (const [K, N] of layers) {
    out.push({ name: `f32-${T}x${K}x${N}`, m: T, k: K, n: N, transA: false, transB: false, bf16: false });
    out.push({ name: `f32-${T}x${K}x${N}-nt`, m: T, k: K, n: N, transA: false, transB: true, bf16: false });
    out.push({ name: `f32-${K}x${T}x${N}-tn`, m: K, k: T, n: N, transA: true, transB: false, bf16: false });
  }
  return out;
}

function randomF32(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2147483648 - 1;
  }
  return x;
}

function toBf16Bits(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16;
  return out;
}

/** a copy of `x` in dsllm tensor storage (the addon's allocator, where every Tensor's bytes live) */
function inTensorStorage<T extends Float32Array | Uint16Array>(x: T): T {
  const buf = addon.alloc(x.byteLength, false) as ArrayBuffer;
  const out = (x instanceof Float32Array ? new Float32Array(buf) : new Uint16Array(buf)) as T;
  out.set(x);
  return out;
}

/** our GFLOP/s per repetition. The operands live where a Tensor's do (native blocks, 2 MiB pages
 *  when large), as numpy's live in numpy's allocator (which also asks for huge pages). */
function measureOurs(s: Shape, reps: number): number[] {
  const af = randomF32(s.m * s.k, 1), bf = randomF32(s.k * s.n, 2);
  const a = inTensorStorage(s.bf16 ? toBf16Bits(af) : af), b = inTensorStorage(s.bf16 ? toBf16Bits(bf) : bf);
  const c = inTensorStorage(new Float32Array(s.m * s.n));
  const call = () => gemmKernels.gemm({ m: s.m, n: s.n, k: s.k, a, b, c, transA: s.transA, transB: s.transB, bf16: s.bf16 });
  const flops = 2 * s.m * s.n * s.k;
  const t0 = performance.now();
  call();  // warm-up (also sizes the inner loop so that one repetition lasts >= ~50 ms)
  const once = Math.max(1e-3, (performance.now() - t0) / 1e3);
  const inner = Math.max(1, Math.min(50, Math.round(0.05 / once)));
  const gflops = timeReps(call, reps, 1, inner).map((t) => flops / t / 1e9);
  for (const x of [a, b, c]) addon.free(x.buffer);
  return gflops;
}

// numpy on arbitrary shapes/transposes: prints one JSON line per shape with each rep's GFLOP/s
const NUMPY_SNIPPET = `
import sys, json, time
import numpy as np
reps = int(sys.argv[1])
for spec in sys.argv[2:]:
    name, m, k, n, ta, tb = spec.split(':')
    m, k, n, ta, tb = int(m), int(k), int(n), ta == '1', tb == '1'
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
    A = a.T if ta else a
    B = b.T if tb else b
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(A, B, out=c)  # warm-up
    t0 = time.perf_counter()
    np.matmul(A, B, out=c)
    inner = max(1, min(50, round(0.05 / max(1e-3, time.perf_counter() - t0))))
    g = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner): np.matmul(A, B, out=c)
        g.append(2 * m * n * k * inner / (time.perf_counter() - t0) / 1e9)
    print(json.dumps({"name": name, "gflops": g}), flush=True)
`;

function row(s: Shape, ours: number[], peer: string | null, peerValue: number | null, noteText?: string): BenchRow {
  const o = median(ours);
  return {
    suite: 'gemm', case: s.name, metric: 'gemm', unit: 'GFLOP/s', ours: o, peer, peer_value: peerValue,
    ratio: peerValue ? o / peerValue : null, reps: ours.length, spread: spreadOf(ours), ...(noteText ? { note: noteText } : {}),
  };
}

export async function run(opts: BenchOptions): Promise<void> {
  const want = (s: Shape) => opts.cases.length === 0 || opts.cases.includes(s.name);
  const square = squareShapes(opts.quick).filter(want);
  const micro = microShapes(opts.quick).filter(want);
  const dir = peersDir();
  const haveNumpy = pythonHas('numpy'), haveTorch = pythonHas('torch');
  if (!dir) note('gemm: ../shared/bench/peers not found (set DSLLM_PEERS): square cases run without peers', opts);
  if (!haveNumpy) note('gemm: numpy missing for /usr/bin/python3 (apt-get install python3-numpy libopenblas0-pthread): f32 rows have no peer', opts);
  if (!haveTorch) note('gemm: torch missing for /usr/bin/python3 (apt-get install python3-torch): bf16 rows have no peer', opts);

  // square f32: ours, then OpenBLAS through the shared peer script
  // The peer scripts time every size in one process, so ours is measured before and after the
  // peer (half the repetitions each): a load change on this shared machine then biases neither.
  const half = Math.max(1, Math.ceil(opts.reps / 2));
  const f32Sq = square.filter((s) => !s.bf16);
  if (f32Sq.length) {
    const ours = f32Sq.map((s) => measureOurs(s, half));
    type NumpyOut = Record<string, { median_gflops?: number } | undefined>;
    let peer: NumpyOut | null = null, why = 'numpy missing';
    if (dir && haveNumpy) {
      const r = runPython([`${dir}/gemm_numpy.py`, String(opts.reps)], peerEnv, dir);
      if (r.ok && r.lines.length) peer = r.lines[r.lines.length - 1] as NumpyOut;
      else why = `numpy peer failed: ${r.error ?? 'no output'}`;
    }
    f32Sq.forEach((s, i) => ours[i].push(...measureOurs(s, half)));
    f32Sq.forEach((s, i) => {
      const p = peer?.[String(s.n)]?.median_gflops ?? null;
      emit(row(s, ours[i], p === null ? null : 'numpy-openblas-skx', p, p === null ? why : undefined), opts);
    });
  }

  // square bf16: ours, then torch (oneDNN) through the shared peer script
  const bfSq = square.filter((s) => s.bf16);
  if (bfSq.length) {
    const ours = bfSq.map((s) => measureOurs(s, half));
    type TorchOut = Record<string, number | undefined>;
    let peer: TorchOut | null = null, why = 'torch missing';
    if (dir && haveTorch) {
      const r = runPython([`${dir}/gemm_torch.py`, '2', String(opts.reps)], peerEnv, dir);
      if (r.ok && r.lines.length) peer = r.lines[r.lines.length - 1] as TorchOut;
      else why = `torch peer failed: ${r.error ?? 'no output'}`;
    }
    bfSq.forEach((s, i) => ours[i].push(...measureOurs(s, half)));
    bfSq.forEach((s, i) => {
      const p = peer?.[`torch.bfloat16-${s.n}`] ?? null;
      emit(row(s, ours[i], p === null ? null : 'torch-bf16', p, p === null ? why : undefined), opts);
    });
  }

  // micro training shapes: ours then numpy, shape by shape
  for (const s of micro) {
    const ours = measureOurs(s, opts.reps);
    let p: number | null = null, why = 'numpy missing';
    if (haveNumpy) {
      const spec = `${s.name}:${s.m}:${s.k}:${s.n}:${s.transA ? 1 : 0}:${s.transB ? 1 : 0}`;
      const r = runPython(['-c', NUMPY_SNIPPET, String(opts.reps), spec], peerEnv, process.cwd());
      const line = r.lines.find((l) => l.name === s.name) as { gflops: number[] } | undefined;
      if (r.ok && line) p = median(line.gflops);
      else why = `numpy peer failed: ${r.error ?? 'no output'}`;
    }
    emit(row(s, ours, p === null ? null : 'numpy-openblas-skx', p, p === null ? why : undefined), opts);
  }
}
