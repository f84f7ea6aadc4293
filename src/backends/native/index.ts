// The native backend: one file per kernel family, gathered here.
import type { Kernels } from '../../core/backend.js';
import { gemmKernels } from './gemm.js';
import { attentionKernels } from './attention.js';
import { normKernels } from './norm.js';
import { ropeKernels } from './rope.js';
import { actKernels } from './act.js';
import { embedKernels } from './embed.js';
import { lossKernels } from './loss.js';
import { optimKernels } from './optim.js';
import { convertKernels } from './convert.js';
import { elementwiseKernels } from './elementwise.js';
import { quantKernels } from './quant.js';
import { decodeKernels } from './decode.js';

export const nativeKernels: Kernels = {
  name: 'native',
  ...gemmKernels,
  ...attentionKernels,
  ...normKernels,
  ...ropeKernels,
  ...actKernels,
  ...embedKernels,
  ...lossKernels,
  ...optimKernels,
  ...convertKernels,
  ...elementwiseKernels,
  ...quantKernels,
  ...decodeKernels,
};
