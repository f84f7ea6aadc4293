// A WeightSource over an in-memory DeepSeekLM: its f32 parameters under their HF names, no copies.
import type { DeepSeekLM } from '../nn/deepseek.js';
import type { ModelConfig } from '../nn/config.js';
import { ModelLoadError } from './errors.js';
import type { RawWeight, WeightSource } from './weight-source.js';

export class ModuleWeightSource implements WeightSource {
  readonly config: ModelConfig;
  readonly origin = 'in-memory DeepSeekLM';
  private readonly params: Map<string, { shape: readonly number[]; f32: Float32Array }>;

  constructor(model: DeepSeekLM) {
    this.config = model.config;
    this.params = new Map([...model.namedParameters()].map(([name, t]) => [name, { shape: t.shape, f32: t.f32 }]));
  }

  names(): string[] { return [...this.params.keys()]; }

  get(name: string): RawWeight {
    const p = this.params.get(name);
    if (!p) throw new ModelLoadError(this.origin, `no tensor named "${name}"`);
    return { dtype: 'f32', shape: [...p.shape], bytes: new Uint8Array(p.f32.buffer, p.f32.byteOffset, p.f32.byteLength) };
  }
}
