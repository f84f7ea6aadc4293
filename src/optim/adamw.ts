// AdamW as the paper trains (β1 0.9, β2 0.95, weight decay 0.1, gradient clipping at 1.0), with
// fp32 master weights and fp32 moments. One fused native kernel per parameter does the whole update;
// the clipping factor is folded into it as a gradient scale, so gradients are never rewritten.
import { Tensor } from '../core/tensor.js';
import { keep } from '../core/scope.js';
import { kernels } from '../core/runtime.js';
import { OpError } from '../core/errors.js';

export interface AdamWOptions {
  beta1?: number; beta2?: number; eps?: number;
  weightDecay?: number;
  /** global gradient-norm clip (the paper: 1.0); 0 or Infinity disables */
  clip?: number;
  /** which parameters decay: default matrices only (norm weights, 1-D, do not) */
  decay?: (name: string, t: Tensor) => boolean;
}

export interface StepStats { gradNorm: number; clipScale: number; lr: number; step: number }

interface Slot { name: string; p: Tensor; m: Tensor; v: Tensor; wd: number }

export class AdamW {
  readonly beta1: number; readonly beta2: number; readonly eps: number;
  readonly weightDecay: number; readonly clip: number;
  private slots: Slot[] = [];
  /** number of updates taken (the bias-correction step) */
  step = 0;

  constructor(params: [string, Tensor][], opts: AdamWOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9; this.beta2 = opts.beta2 ?? 0.95; this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.1; this.clip = opts.clip ?? 1.0;
    const decay = opts.decay ?? ((_n: string, t: Tensor) => t.shape.length >= 2);
    for (const [name, p] of params) {
      if (p.dtype !== 'f32') throw new OpError('adamw', `parameter ${name} is ${p.dtype}: master weights must be f32`);
      this.slots.push({ name, p, m: keep(Tensor.zeros(p.shape)), v: keep(Tensor.zeros(p.shape)), wd: decay(name, p) ? this.weightDecay : 0 });
    }
  }

  /** √(Σ‖g‖²) over every parameter's gradient (missing gradients count as zero) */
  gradNorm(): number {
    const k = kernels();
    let ss = 0;
    for (const s of this.slots) if (s.p.grad) ss += k.sumSquares(s.p.grad.f32, s.p.numel);
    return Math.sqrt(ss);
  }

  /** Clips, updates every parameter at learning rate lr, and zeroes the gradients. */
  update(lr: number): StepStats {
    const k = kernels();
    const norm = this.gradNorm();
    if (!Number.isFinite(norm)) {
      // a non-finite weight poisons every gradient: name it first, it is the cause
      for (const s of this.slots) {
        const bad = k.firstNonFinite(s.p.f32, s.p.numel);
        if (bad >= 0) throw new OpError('adamw', `non-finite weight (NaN/Inf) in ${s.name} at element ${bad} (step ${this.step + 1}): every gradient is non-finite; restore a checkpoint`, '');
      }
      for (const s of this.slots) {
        const bad = s.p.grad ? k.firstNonFinite(s.p.grad.f32, s.p.numel) : -1;
        if (bad >= 0) throw new OpError('adamw', `non-finite gradient (NaN/Inf) in ${s.name} at element ${bad} (step ${this.step + 1}); lower the learning rate or check the data`, '');
      }
      throw new OpError('adamw', `gradient norm is ${norm}`, '');
    }
    const clipScale = this.clip > 0 && Number.isFinite(this.clip) && norm > this.clip ? this.clip / (norm + 1e-6) : 1;
    this.step++;
    for (const s of this.slots) {
      if (!s.p.grad) continue;
      k.adamw(s.p.f32, s.p.grad.f32, s.m.f32, s.v.f32, s.p.numel, lr, this.beta1, this.beta2, this.eps, s.wd, this.step, clipScale, null);
    }
    this.zeroGrad();
    return { gradNorm: norm, clipScale, lr, step: this.step };
  }

  zeroGrad(): void {
    for (const s of this.slots) if (s.p.grad) s.p.grad.f32.fill(0);
  }

  /** moments by parameter name, for checkpoints */
  state(): { name: string; m: Tensor; v: Tensor }[] {
    return this.slots.map((s) => ({ name: s.name, m: s.m, v: s.v }));
  }

  dispose(): void {
    for (const s of this.slots) { s.m.dispose(); s.v.dispose(); }
    this.slots = [];
  }
}
