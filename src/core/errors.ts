// Errors from ops name the op, the shapes involved and the layer being run (the module path
// pushed by the model during forward/backward), e.g.
//   "attention in model.layers.3.self_attn: q [2,16,4,64] and k [2,16,3,64]: kv heads (3) must divide heads (4)"
import type { Tensor } from './tensor.js';

const layers: string[] = [];

export function inLayer<R>(name: string, fn: () => R): R {
  layers.push(name);
  try { return fn(); } finally { layers.pop(); }
}

export function currentLayer(): string {
  return layers.length ? layers[layers.length - 1] : '';
}

export class OpError extends Error {
  constructor(op: string, msg: string, layer = currentLayer()) {
    super(`${op}${layer ? ` in ${layer}` : ''}: ${msg}`);
    this.name = 'OpError';
  }
}

export function expectDType(op: string, t: Tensor, ...dtypes: string[]): void {
  if (!dtypes.includes(t.dtype)) throw new OpError(op, `${t.describe()} must be ${dtypes.join(' or ')}`);
}

export function expectShape(op: string, t: Tensor, shape: readonly number[]): void {
  const ok = t.shape.length === shape.length && t.shape.every((d, i) => shape[i] < 0 || d === shape[i]);
  if (!ok) throw new OpError(op, `${t.describe()} should have shape [${shape.map((d) => (d < 0 ? '*' : d)).join(',')}]`);
}

/** A NaN/Inf detector for training steps: names the tensor and the first bad index. */
export function assertFinite(op: string, t: Tensor, firstBad: number): void {
  if (firstBad >= 0) throw new OpError(op, `non-finite value (NaN/Inf) in ${t.describe()} at element ${firstBad}`);
}
