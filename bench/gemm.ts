import type { BenchOptions } from './common.js';
import { note } from './common.js';

export async function run(opts: BenchOptions): Promise<void> {
  note('gemm bench: not written yet', opts);
}
