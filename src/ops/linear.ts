// y = x Wᵀ (no bias: DeepSeek LLM has none). x [..., in], W [out, in] (HF layout), y [..., out].
// Forward and backward side by side. In bf16 mode the GEMM rounds x and W to bf16 while packing and
// accumulates in f32 (AVX512-BF16); W and all gradients stay f32 (the paper's mixed precision).
import { kernels } from '../core/runtime.js';
import { Tensor } from '../core/tensor.js';
import { gradOf, needsGrad, record } from '../core/autograd.js';
import { OpError } from '../core/errors.js';
import { computeBf16 } from './precision.js';

export function linear(x: Tensor, w: Tensor): Tensor {
  const [outF, inF] = w.shape;
  if (w.shape.length !== 2) throw new OpError('linear', `weight ${w.describe()} must be 2-D [out, in]`);
  if (x.shape[x.shape.length - 1] !== inF) throw new OpError('linear', `input ${x.describe()} does not match weight ${w.describe()} (last dim must be ${inF})`);
  if (x.dtype !== 'f32') throw new OpError('linear', `input ${x.describe()} must be f32`);
  const rows = x.numel / inF;
  const y = Tensor.empty([...x.shape.slice(0, -1), outF]);
  const bf16 = computeBf16();
  kernels().gemm({ m: rows, n: outF, k: inF, a: x.f32, b: w.data as Float32Array | Uint16Array, c: y.f32, transB: true, bf16 });
  if (needsGrad(x, w)) {
    record({
      op: 'linear', outputs: [y],
      backward() {
        const dy = y.grad!.f32;
        // dx[rows,in] += dy[rows,out] · W[out,in]
        if (x.requiresGrad) kernels().gemm({ m: rows, n: inF, k: outF, a: dy, b: w.data as Float32Array, c: gradOf(x).f32, beta: 1, bf16 });
        // dW[out,in] += dyᵀ · x
        if (w.requiresGrad) kernels().gemm({ m: outF, n: inF, k: rows, a: dy, b: x.f32, c: gradOf(w).f32, transA: true, beta: 1, bf16 });
      },
    });
  }
  return y;
}
