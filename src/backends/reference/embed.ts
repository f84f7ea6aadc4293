// Token embedding, the plain way: a row gather and a row scatter-add in ascending i.
import type { Kernels } from '../../core/backend.js';
import type { F32, FloatData, I32 } from '../../core/dtype.js';
import { fail, size, f32 } from './check.js';

function checkIds(op: string, ids: unknown, N: number, V: number): asserts ids is I32 {
  if (!(ids instanceof Int32Array)) fail(op, `argument 'ids' must be an Int32Array`);
  if (ids.length < N) fail(op, `argument 'ids' holds ${ids.length} elements, needs at least ${N}`);
  for (let i = 0; i < N; i++) {
    if (ids[i] < 0 || ids[i] >= V) fail(op, `ids[${i}] = ${ids[i]} is out of range [0, V=${V})`);
  }
}

export const embedKernels: Pick<Kernels, 'embeddingForward' | 'embeddingBackward'> = {
  embeddingForward(out: F32, ids: I32, table: FloatData, N: number, C: number, V: number): void {
    const op = 'embeddingForward';
    size(op, 'N', N); size(op, 'C', C); size(op, 'V', V);
    f32(op, 'out', out, N * C);
    if (!(table instanceof Float32Array) && !(table instanceof Uint16Array)) {
      fail(op, `argument 'table' must be a Float32Array (f32) or Uint16Array (bf16)`);
    }
    if (table.length < V * C) fail(op, `argument 'table' holds ${table.length} elements, needs at least ${V * C}`);
    checkIds(op, ids, N, V);
    const bits = new Uint32Array(1), f = new Float32Array(bits.buffer);
    for (let i = 0; i < N; i++) {
      const row = ids[i] * C;
      for (let j = 0; j < C; j++) {
        if (table instanceof Float32Array) {
          out[i * C + j] = table[row + j];
        } else {
          bits[0] = table[row + j] << 16;
          out[i * C + j] = f[0];
        }
      }
    }
  },

  embeddingBackward(dtable: F32, dout: F32, ids: I32, N: number, C: number, V: number): void {
    const op = 'embeddingBackward';
    size(op, 'N', N); size(op, 'C', C); size(op, 'V', V);
    f32(op, 'dtable', dtable, V * C);
    f32(op, 'dout', dout, N * C);
    checkIds(op, ids, N, V);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < C; j++) dtable[ids[i] * C + j] += dout[i * C + j];
    }
  },
};
