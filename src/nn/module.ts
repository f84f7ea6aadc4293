// Modules own parameters under Hugging Face names, so checkpoints load and save without renaming.
import { Tensor } from '../core/tensor.js';
import { keep } from '../core/scope.js';
import type { Rng } from '../util/rng.js';

export abstract class Module {
  /** this module's path, e.g. "model.layers.3.self_attn" */
  constructor(readonly path: string) {}

  /** direct parameters: local name → tensor */
  protected params: Map<string, Tensor> = new Map();
  protected children: Module[] = [];

  protected param(local: string, shape: number[], init: (t: Float32Array) => void): Tensor {
    const t = keep(Tensor.empty(shape, 'f32'));
    init(t.f32);
    t.requiresGrad = true;
    t.name = this.path ? `${this.path}.${local}` : local;
    this.params.set(local, t);
    return t;
  }

  protected child<M extends Module>(m: M): M {
    this.children.push(m);
    return m;
  }

  /** every parameter below this module, by full HF name, in a fixed order */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const t of this.params.values()) out.push([t.name, t]);
    for (const c of this.children) out.push(...c.namedParameters());
    return out;
  }

  dispose(): void {
    for (const [, t] of this.namedParameters()) t.dispose();
  }
}

export const normalInit = (rng: Rng, std: number) => (t: Float32Array) => { rng.fillNormal(t, std); };
export const onesInit = (t: Float32Array) => { t.fill(1); };
