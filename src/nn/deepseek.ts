// DeepSeekLM: token embedding → N pre-norm decoder layers → final RMSNorm → untied LM head.
// Weight names follow HF's LlamaForCausalLM (model.embed_tokens.weight, model.layers.N.…, lm_head.weight).
import { Tensor } from '../core/tensor.js';
import { inLayer } from '../core/errors.js';
import { embedding } from '../ops/embedding.js';
import { ropeTables, type RopeTables } from '../ops/rope.js';
import { lmHeadLoss, type LmHeadLossOptions } from '../ops/lm-head-loss.js';
import { Module, normalInit } from './module.js';
import { DecoderLayer, RMSNorm } from './layers.js';
import { headDim, validateConfig, type ModelConfig } from './config.js';
import { Rng } from '../util/rng.js';

export interface ModelOptions {
  seed?: number;
  /** init std of every matrix; default config.initializer_range, else the paper's 0.006 */
  initStd?: number;
}

export class DeepSeekLM extends Module {
  readonly config: ModelConfig;
  readonly embed_tokens: Tensor;
  readonly layers: DecoderLayer[] = [];
  readonly norm: RMSNorm;
  readonly lm_head: Tensor;
  private tables: RopeTables | null = null;

  constructor(config: ModelConfig, opts: ModelOptions = {}) {
    super('');
    const c = (this.config = validateConfig(config));
    const rng = new Rng(opts.seed ?? 1337);
    const std = opts.initStd ?? c.initializer_range ?? 0.006;
    this.embed_tokens = this.param('model.embed_tokens.weight', [c.vocab_size, c.hidden_size], normalInit(rng, std));
    for (let i = 0; i < c.num_hidden_layers; i++) this.layers.push(this.child(new DecoderLayer(`model.layers.${i}`, c, rng, std)));
    this.norm = this.child(new RMSNorm('model.norm', c.hidden_size, c.rms_norm_eps));
    if (c.tie_word_embeddings) this.lm_head = this.embed_tokens;
    else this.lm_head = this.param('lm_head.weight', [c.vocab_size, c.hidden_size], normalInit(rng, std));
  }

  ropeTables(T: number): RopeTables {
    if (!this.tables || this.tables.maxT < T) {
      this.tables = ropeTables(Math.max(T, this.config.max_position_embeddings), headDim(this.config), this.config.rope_theta);
    }
    return this.tables;
  }

  /** final hidden states [B,T,C] (after the last RMSNorm) for token ids [B,T] */
  hidden(ids: Tensor): Tensor {
    if (ids.shape.length !== 2) throw new Error(`DeepSeekLM: ids ${ids.describe()} must be [batch, seq]`);
    const tables = this.ropeTables(ids.shape[1]);
    let x = inLayer('model.embed_tokens', () => embedding(ids, this.embed_tokens));
    for (const layer of this.layers) x = layer.forward(x, tables);
    return this.norm.forward(x);
  }

  /** mean next-token cross-entropy (nats) of ids [B,T] against targets [B,T] */
  loss(ids: Tensor, targets: Tensor, opts: LmHeadLossOptions = {}): Tensor {
    const h = this.hidden(ids);
    return inLayer('lm_head', () => lmHeadLoss(h, this.lm_head, targets, opts));
  }

  /** all parameters in HF order, by name */
  parameterMap(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }
}

export { Tensor };
