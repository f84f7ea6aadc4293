// Argument checks shared by the reference kernels: the oracle validates as strictly as the addon,
// with messages of the same shape ("reference.<op>: argument '<name>' …").
export function fail(op: string, msg: string): never {
  throw new Error(`reference.${op}: ${msg}`);
}

export function size(op: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) fail(op, `argument '${name}' must be a non-negative integer, got ${v}`);
}

export function f32(op: string, name: string, a: unknown, need: number): void {
  if (!(a instanceof Float32Array)) fail(op, `argument '${name}' must be a Float32Array`);
  if (a.length < need) fail(op, `argument '${name}' holds ${a.length} elements, needs at least ${need}`);
}
