// Quantized/16-bit inference weights through the addon (native/quant.cc validates every argument).
import type { Kernels, WeightFormat } from '../../core/backend.js';
import type { F32, I32 } from '../../core/dtype.js';
import { addon } from './addon.js';

/** format codes of native/quant.cc */
export const FORMAT_CODE: Record<WeightFormat, number> = { f32: 0, bf16: 1, f16: 2, q8_0: 3, q4_0: 4 };

function code(op: string, fmt: WeightFormat): number {
  const c = FORMAT_CODE[fmt];
  if (c === undefined) throw new TypeError(`dsllm.${op}: unknown weight format ${JSON.stringify(fmt)} (f32, bf16, f16, q8_0, q4_0)`);
  return c;
}

export const quantKernels: Pick<Kernels, 'quantize' | 'dequantize' | 'embedRows' | 'matmulQuant' | 'streamRead'> = {
  quantize(out: Uint8Array, x: F32, fmt: 'q8_0' | 'q4_0', n: number): void {
    addon.quantize(out, x, code('quantize', fmt), n);
  },
  dequantize(out: F32, w: Uint8Array, fmt: WeightFormat, n: number): void {
    addon.dequantize(out, w, code('dequantize', fmt), n);
  },
  embedRows(out: F32, ids: I32, w: Uint8Array, fmt: WeightFormat, N: number, k: number, V: number): void {
    addon.embedRows(out, ids, w, code('embedRows', fmt), N, k, V);
  },
  matmulQuant(y: F32, x: F32, w: Uint8Array, fmt: WeightFormat, rows: number, n: number, k: number, mode: 'dot' | 'gemm'): void {
    addon.matmulQuant(y, x, w, code('matmulQuant', fmt), rows, n, k, mode === 'gemm' ? 1 : 0);
  },
  streamRead(buf: Uint8Array): number {
    return addon.streamRead(buf) as number;
  },
};
