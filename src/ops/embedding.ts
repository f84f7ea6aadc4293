// out[b,t,:] = table[ids[b,t],:]. The backward adds each row of dout into the row of its token.
import { kernels } from '../core/runtime.js';
import { Tensor } from '../core/tensor.js';
import { gradOf, needsGrad, record } from '../core/autograd.js';
import { OpError } from '../core/errors.js';

export function embedding(ids: Tensor, table: Tensor): Tensor {
  if (ids.dtype !== 'i32') throw new OpError('embedding', `ids ${ids.describe()} must be i32`);
  if (table.shape.length !== 2) throw new OpError('embedding', `table ${table.describe()} must be 2-D [vocab, dim]`);
  const [V, C] = table.shape;
  const N = ids.numel;
  const out = Tensor.empty([...ids.shape, C]);
  kernels().embeddingForward(out.f32, ids.i32, table.data as Float32Array | Uint16Array, N, C, V);
  if (needsGrad(table)) {
    record({
      op: 'embedding', outputs: [out],
      backward() { kernels().embeddingBackward(gradOf(table).f32, out.grad!.f32, ids.i32, N, C, V); },
    });
  }
  return out;
}
