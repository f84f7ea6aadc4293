// Reference elementwise ops. f32 results match native bit for bit: a sum or product of two f32s
// computed in f64 and stored to f32 is the correctly rounded f32 result.
import type { Kernels } from '../../core/backend.js';
import type { F32 } from '../../core/dtype.js';

type Data = Float32Array | Uint16Array | Int32Array;

function fail(op: string, msg: string): never { throw new Error(`reference.${op}: ${msg}`); }

function checkN(op: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) fail(op, `argument 'n' must be a non-negative integer, got ${n}`);
}

function checkF32(op: string, name: string, x: unknown, n: number): void {
  if (!(x instanceof Float32Array)) fail(op, `argument '${name}' must be a Float32Array`);
  if (x.length < n) fail(op, `argument '${name}' holds ${x.length} elements, needs ${n}`);
}

function checkDims(name: string, dims: ArrayLike<number>): void {
  if (dims === null || typeof dims !== 'object' || typeof dims.length !== 'number') fail('copyStrided', `argument '${name}' must be an array of integers`);
  if (dims.length > 6) fail('copyStrided', `argument '${name}' has ${dims.length} dims, at most 6 are supported`);
  for (let d = 0; d < dims.length; d++) {
    if (!Number.isSafeInteger(dims[d]) || dims[d] < 0) fail('copyStrided', `argument '${name}[${d}]' must be a non-negative integer`);
  }
}

export const elementwiseKernels: Pick<Kernels, 'add' | 'addInto' | 'scale' | 'copyStrided' | 'firstNonFinite'> = {
  add(out: F32, a: F32, b: F32, n: number): void {
    checkN('add', n); checkF32('add', 'out', out, n); checkF32('add', 'a', a, n); checkF32('add', 'b', b, n);
    for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  },

  addInto(dst: F32, src: F32, n: number): void {
    checkN('addInto', n); checkF32('addInto', 'dst', dst, n); checkF32('addInto', 'src', src, n);
    for (let i = 0; i < n; i++) dst[i] += src[i];
  },

  scale(x: F32, s: number, n: number): void {
    checkN('scale', n); checkF32('scale', 'x', x, n);
    if (typeof s !== 'number') fail('scale', `argument 's' must be a number`);
    const sf = Math.fround(s);  // the scale is an f32, as in native
    for (let i = 0; i < n; i++) x[i] *= sf;
  },

  copyStrided(out: Data, x: Data, shape: number[], strides: number[], offset: number): void {
    const kinds = [Float32Array, Int32Array, Uint16Array];
    const kind = kinds.find((K) => out instanceof K);
    if (!kind) fail('copyStrided', `argument 'out' must be a Float32Array, Int32Array or Uint16Array`);
    if (!(x instanceof kind)) fail('copyStrided', `arguments 'out' and 'x' must have the same element type`);
    checkDims('shape', shape);
    checkDims('strides', strides);
    if (shape.length !== strides.length) fail('copyStrided', `'shape' has ${shape.length} dims but 'strides' has ${strides.length}`);
    if (!Number.isSafeInteger(offset) || offset < 0) fail('copyStrided', `argument 'offset' must be a non-negative integer, got ${offset}`);
    const nd = shape.length;
    let total = 1, last = offset;
    for (let d = 0; d < nd; d++) total *= shape[d];
    if (total > out.length) fail('copyStrided', `argument 'out' holds ${out.length} elements, the view has ${total}`);
    if (total === 0) return;
    for (let d = 0; d < nd; d++) last += (shape[d] - 1) * strides[d];
    if (last >= x.length) fail('copyStrided', `the view reaches element ${last} but 'x' holds ${x.length}`);
    // walk the output in row-major order with a multi-index
    const idx = new Array<number>(nd).fill(0);
    for (let i = 0; i < total; i++) {
      let src = offset;
      for (let d = 0; d < nd; d++) src += idx[d] * strides[d];
      out[i] = x[src];
      for (let d = nd - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
  },

  firstNonFinite(x: F32, n: number): number {
    checkN('firstNonFinite', n); checkF32('firstNonFinite', 'x', x, n);
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) return i;
    return -1;
  },
};
