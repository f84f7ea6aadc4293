// Scopes give tensors a lifetime without the garbage collector: every tensor created while a
// scope is open is disposed when it closes, except the ones it returns or `keep`s (as tfjs's tidy).
import type { Tensor } from './tensor.js';

const stack: Set<Tensor>[] = [];

/** called by the Tensor constructor */
export function track(t: Tensor): void {
  if (stack.length) stack[stack.length - 1].add(t);
}

/** removes t from every open scope: it outlives them (its owner disposes it) */
export function keep<T extends Tensor>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

/** Runs fn; disposes the tensors it created except those in its result (a tensor, array or object of tensors). */
export function scope<R>(fn: () => R): R {
  const mine = new Set<Tensor>();
  stack.push(mine);
  let result: R;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    for (const t of mine) t.dispose();
    throw e;
  }
  stack.pop();
  const survivors = new Set<Tensor>();
  collect(result, survivors, 0);
  for (const t of mine) {
    if (survivors.has(t)) {
      if (stack.length) stack[stack.length - 1].add(t); // returned into the enclosing scope
    } else t.dispose();
  }
  return result;
}

function collect(v: unknown, out: Set<Tensor>, depth: number): void {
  if (depth > 4 || v === null || typeof v !== 'object') return;
  if ((v as Tensor).storage !== undefined && (v as Tensor).shape !== undefined) { out.add(v as Tensor); return; }
  if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
  else for (const x of Object.values(v as object)) collect(x, out, depth + 1);
}
