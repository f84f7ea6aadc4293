// Reference softmax cross-entropy, in f64 per row.
import type { Kernels } from '../../core/backend.js';
import type { F32, I32 } from '../../core/dtype.js';

function fail(msg: string): never { throw new Error(`reference.crossEntropy: ${msg}`); }

export const lossKernels: Pick<Kernels, 'crossEntropy'> = {
  crossEntropy(losses: F32, dlogits: F32 | null, logits: F32, targets: I32, N: number, V: number, ignoreIndex: number, gradScale: number): void {
    for (const [name, v] of [['N', N], ['V', V]] as const)
      if (!Number.isSafeInteger(v) || v < 0) fail(`argument '${name}' must be a non-negative integer, got ${v}`);
    if (N > 0 && V < 1) fail(`argument 'V' must be >= 1`);
    if (!Number.isSafeInteger(ignoreIndex)) fail(`argument 'ignoreIndex' must be an integer, got ${ignoreIndex}`);
    if (typeof gradScale !== 'number' || !Number.isFinite(gradScale)) fail(`argument 'gradScale' must be finite`);
    const need = (name: string, a: unknown, K: typeof Float32Array | typeof Int32Array, n: number) => {
      if (!(a instanceof K)) fail(`argument '${name}' must be a ${K.name}`);
      if (a.length < n) fail(`argument '${name}' holds ${a.length} elements, needs ${n}`);
    };
    need('losses', losses, Float32Array, N);
    if (dlogits !== null && dlogits !== undefined) need('dlogits', dlogits, Float32Array, N * V);
    need('logits', logits, Float32Array, N * V);
    need('targets', targets, Int32Array, N);
    for (let i = 0; i < N; i++) {
      const t = targets[i];
      if (t !== ignoreIndex && (t < 0 || t >= V))
        fail(`targets[${i}] = ${t} is outside [0, ${V}) and is not ignoreIndex (${ignoreIndex})`);
    }

    for (let i = 0; i < N; i++) {
      const row = i * V, t = targets[i];
      if (t === ignoreIndex) {
        losses[i] = 0;
        if (dlogits) dlogits.fill(0, row, row + V);
        continue;
      }
      let max = -Infinity;
      for (let j = 0; j < V; j++) max = Math.max(max, logits[row + j]);
      let sum = 0;
      for (let j = 0; j < V; j++) sum += Math.exp(logits[row + j] - max);
      losses[i] = max + Math.log(sum) - logits[row + t];
      if (dlogits) {
        // every logit of the row is read before its gradient overwrites it (dlogits may be logits)
        for (let j = 0; j < V; j++) {
          const p = Math.exp(logits[row + j] - max) / sum;
          dlogits[row + j] = gradScale * (p - (j === t ? 1 : 0));
        }
      }
    }
  },
};
