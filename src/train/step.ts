// One optimizer step: forward, backward, clip, AdamW update. Everything the step allocates is freed
// when it returns (a scope), so memory stays flat over a long run.
import { backward, clearTape } from '../core/autograd.js';
import { scope } from '../core/scope.js';
import type { Tensor } from '../core/tensor.js';
import type { DeepSeekLM } from '../nn/deepseek.js';
import type { AdamW } from '../optim/adamw.js';
import type { LmHeadLossOptions } from '../ops/lm-head-loss.js';

export interface StepResult { loss: number; gradNorm: number; clipScale: number; lr: number; step: number }

/** forward + backward of one micro-batch; gradients accumulate into the parameters' .grad */
export function accumulateGradients(model: DeepSeekLM, ids: Tensor, targets: Tensor, opts: LmHeadLossOptions = {}): number {
  return scope(() => {
    try {
      const loss = model.loss(ids, targets, opts);
      const value = loss.item();
      backward(loss);
      return value;
    } finally {
      clearTape();
    }
  });
}

/** one update from `micro` micro-batches (gradient accumulation), at learning rate lr */
export function trainStep(model: DeepSeekLM, opt: AdamW, batches: { ids: Tensor; targets: Tensor }[], lr: number): StepResult {
  let loss = 0;
  for (const b of batches) loss += accumulateGradients(model, b.ids, b.targets, { gradScale: 1 / batches.length }) / batches.length;
  const s = opt.update(lr);
  return { loss, ...s };
}
