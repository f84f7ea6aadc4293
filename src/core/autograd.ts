// Reverse-mode autograd over a tape of coarse, fused ops (linear, rmsnorm, rope, attention, swiglu,
// embedding, residual add, chunked LM-head cross-entropy). Each op records one node holding what its
// backward needs; backward() walks the tape in reverse. Backward kernels ADD into gradients, so a
// tensor used twice (the residual stream) sums its gradients without copies.
//
// Lifetime: activations saved on the tape belong to the enclosing scope(); call backward() inside the
// scope that ran forward. Intermediate gradients are freed as soon as their node has consumed them.
import { keep } from './scope.js';
import { Tensor } from './tensor.js';

export interface TapeNode {
  /** op name, for error messages */
  op: string;
  /** tensors this op produced (their grads are inputs to backward) */
  outputs: Tensor[];
  backward(): void;
}

let tape: TapeNode[] = [];
let gradEnabled = true;

export function isGradEnabled(): boolean { return gradEnabled; }

/** runs fn without recording (inference, evaluation) */
export function noGrad<R>(fn: () => R): R {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

/** true when the op must be recorded: grad on and some input needs a gradient */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

export function record(node: TapeNode): void {
  for (const o of node.outputs) o.requiresGrad = true;
  tape.push(node);
}

/** the gradient buffer of t, created zero-filled on first use; owned by t, not by any scope */
export function gradOf(t: Tensor): Tensor {
  if (!t.grad) {
    t.grad = keep(Tensor.zeros(t.shape, 'f32'));
    t.grad.name = t.name ? `grad(${t.name})` : 'grad';
  }
  return t.grad;
}

/** Back-propagates from a scalar loss (d loss = 1), then clears the tape. */
export function backward(loss: Tensor): void {
  if (loss.numel !== 1) throw new Error(`backward: loss must be a scalar, got ${loss.describe()}`);
  if (!loss.requiresGrad) throw new Error('backward: the loss does not depend on any tensor that requires grad');
  gradOf(loss).f32[0] = 1;
  const nodes = tape;
  tape = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.outputs.some((o) => o.grad)) continue; // nothing flows into this op
    node.backward();
    for (const o of node.outputs) {
      if (o.grad) { o.grad.dispose(); o.grad = null; }
    }
  }
}

/** drops the tape without back-propagating (e.g. after an evaluation forward with grad on) */
export function clearTape(): void { tape = []; }

export function tapeLength(): number { return tape.length; }
