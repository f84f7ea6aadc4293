// The inference model: DeepSeek LLM / LLaMA forward with per-sequence KV caches, batched prefill and
// continuous-batching steps (linear layers over every new row of every sequence at once; attention
// against each sequence's own cache: one batched decodeAttention call per layer for the sequences
// adding one token, a flash-attention call per sequence for longer inputs). No autograd and no tensors: plain Float32Array scratch
// buffers, sized for the largest step seen and reused, so decoding allocates nothing per token but
// the returned logits.
import { kernels } from '../core/runtime.js';
import type { AttentionArgs, DecodeAttentionArgs } from '../core/backend.js';
import { ropeTables, type RopeTables } from '../ops/rope.js';
import { headDim, type ModelConfig } from '../nn/config.js';
import type { DeepSeekLM } from '../nn/deepseek.js';
import type { CausalLM, Sequence, StepInput } from './types.js';
import { ContextOverflowError, StepInputError } from './errors.js';
import { loadWeights, type LoadOptions, type ModelWeights } from './load.js';
import { ModuleWeightSource } from './model-source.js';
import type { WeightSource } from './weight-source.js';
import { HFDirSource } from './hf-source.js';

/** most rows one pass runs; larger steps are split (bounds the scratch activations) */
export const MAX_STEP_ROWS = 512;

/** freed KV caches kept for reuse, at most this many bytes */
const KV_POOL_BYTES = 1 << 30;

/** KV cache rows allocated first; the cache doubles as the sequence grows, up to its capacity */
const KV_INITIAL_ROWS = 256;

class KvSequence implements Sequence {
  length = 0;
  /** rows allocated in each layer's k/v buffers (≥ length, ≤ capacity) */
  rows = 0;
  k: Float32Array[] = [];
  v: Float32Array[] = [];
  freed = false;
  constructor(readonly id: number, readonly capacity: number, readonly owner: InferenceModel) {}
}

export interface InferenceOptions extends LoadOptions {
  /** real token rows of the head (ids ≥ this are padding, never sampled); default config.vocab_size */
  vocabSize?: number;
}

export class InferenceModel implements CausalLM {
  readonly config: ModelConfig;
  readonly vocabSize: number;
  private readonly w: ModelWeights;
  private readonly tables: RopeTables;
  private readonly H: number;
  private readonly Hkv: number;
  private readonly D: number;
  private nextId = 1;
  private readonly live = new Set<KvSequence>();
  /** freed KV buffers by rows per layer, for the next sequences */
  private readonly kvFree = new Map<number, { k: Float32Array[]; v: Float32Array[] }[]>();
  private kvFreeBytes = 0;
  private readonly attn: AttentionArgs;
  private disposed = false;
  // scratch, [rows, ·] row-major, grown to the largest step
  private cap = 0;
  private ids = new Int32Array(0);
  private x = new Float32Array(0);
  private xn = new Float32Array(0);
  private q = new Float32Array(0);
  private kb = new Float32Array(0);
  private vb = new Float32Array(0);
  private att = new Float32Array(0);
  private proj = new Float32Array(0);
  private gate = new Float32Array(0);
  private up = new Float32Array(0);
  private sel = new Float32Array(0);
  private qkv = new Float32Array(0);
  private gu = new Float32Array(0);
  // views of qkv / gu for a one-row step, where the stacked outputs are already contiguous
  private q1 = new Float32Array(0);
  private k1 = new Float32Array(0);
  private v1 = new Float32Array(0);
  private g1 = new Float32Array(0);
  private u1 = new Float32Array(0);
  private readonly split = { shape: [0, 0], strides: [0, 1] };
  // the decoding sequences of a step: their rows, positions, and one layer's caches
  private decRows = new Int32Array(0);
  private decPos = new Int32Array(0);
  private readonly decK: Float32Array[] = [];
  private readonly decV: Float32Array[] = [];
  private readonly decArgs: DecodeAttentionArgs;

  constructor(weights: ModelWeights, opts: InferenceOptions = {}) {
    this.w = weights;
    const c = (this.config = weights.config);
    this.vocabSize = Math.min(opts.vocabSize ?? c.vocab_size, c.vocab_size);
    this.H = c.num_attention_heads; this.Hkv = c.num_key_value_heads; this.D = headDim(c);
    this.tables = ropeTables(c.max_position_embeddings, this.D, c.rope_theta);
    this.attn = { B: 1, Tq: 1, Tk: 1, H: this.H, Hkv: this.Hkv, D: this.D, kvCap: 1, causal: true };
    this.decArgs = { H: this.H, Hkv: this.Hkv, D: this.D };
    // f32 matrices that are only multiplied are packed now and drop their row-major copy (the
    // embedding, gathered from, keeps it; so does a head tied to it)
    for (const l of weights.layers) for (const m of [l.qkv, l.o, l.gateUp, l.down]) m.packForProducts();
    if (weights.head !== weights.embed) weights.head.packForProducts();
  }

  /** from any weight source (HF directory, GGUF file, …) */
  static fromSource(src: WeightSource, opts: InferenceOptions = {}): InferenceModel {
    return new InferenceModel(loadWeights(src, opts), opts);
  }

  /**
   * from an in-memory model. Matrices that need no conversion (f32 o_proj, down_proj, embedding, head,
   * norms) are shared with it, not copied: build a new InferenceModel after changing its weights.
   */
  static fromModel(model: DeepSeekLM, opts: InferenceOptions = {}): InferenceModel {
    return InferenceModel.fromSource(new ModuleWeightSource(model), opts);
  }

  /** from a Hugging Face model directory (single or sharded safetensors; f32, bf16, f16); the real
   *  vocabulary size comes from its tokenizer.json when there is one */
  static fromHFDir(dir: string, opts: InferenceOptions = {}): InferenceModel {
    const src = new HFDirSource(dir);
    return InferenceModel.fromSource(src, { ...opts, vocabSize: opts.vocabSize ?? src.tokenizerVocabSize() });
  }

  /** bytes of weights read per decoded token (every matrix once; the embedding row is negligible) */
  weightBytesPerToken(): number {
    let b = this.w.head.byteLength + this.w.norm.byteLength;
    for (const l of this.w.layers) {
      for (const m of [l.qkv, l.o, l.gateUp, l.down]) b += m.byteLength;
      b += l.attnNorm.byteLength + l.mlpNorm.byteLength;
    }
    return b;
  }

  /** storage format of each kind of matrix, e.g. { embed: 'q8_0', layers: 'q8_0', head: 'q8_0' } */
  formats(): { embed: string; layers: string; head: string } {
    const kinds = new Set(this.w.layers.flatMap((l) => [l.qkv, l.o, l.gateUp, l.down].map((m) => m.dtype)));
    return { embed: this.w.embed.dtype, layers: [...kinds].join('+'), head: this.w.head.dtype };
  }

  newSequence(capacity = this.config.max_position_embeddings): Sequence {
    this.alive();
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > this.config.max_position_embeddings) {
      throw new ContextOverflowError(`sequence capacity must be an integer in [1, ${this.config.max_position_embeddings}] (max_position_embeddings), got ${capacity}`);
    }
    const s = new KvSequence(this.nextId++, capacity, this);
    this.live.add(s);
    return s;
  }

  truncate(seq: Sequence, length: number): void {
    const s = this.own(seq);
    if (!Number.isInteger(length) || length < 0 || length > s.length) throw new RangeError(`truncate: length must be an integer in [0, ${s.length}], got ${length}`);
    s.length = length;
  }

  freeSequence(seq: Sequence): void {
    const s = this.own(seq);
    this.giveKv(s);
    s.k = []; s.v = []; s.rows = 0; s.length = 0; s.freed = true;
    this.live.delete(s);
  }

  dispose(): void {
    for (const s of [...this.live]) this.freeSequence(s);
    this.kvFree.clear();
    this.kvFreeBytes = 0;
    this.disposed = true;
    this.cap = 0;
    for (const k of ['x', 'xn', 'q', 'kb', 'vb', 'att', 'proj', 'gate', 'up', 'sel', 'qkv', 'gu', 'q1', 'k1', 'v1', 'g1', 'u1'] as const) this[k] = new Float32Array(0);
  }

  step(inputs: StepInput[]): Float32Array {
    this.alive();
    const c = this.config, V = c.vocab_size;
    let R = 0, nOut = 0;
    for (let i = 0; i < inputs.length; i++) {
      const inp = inputs[i], s = this.own(inp.seq);
      for (let j = 0; j < i; j++) if (inputs[j].seq === s) throw new StepInputError(`step: sequence ${s.id} appears twice (inputs ${j} and ${i})`);
      const n = inp.tokens.length;
      if (n === 0) throw new StepInputError(`step: input ${i} has no tokens`);
      if (s.length + n > s.capacity) {
        throw new ContextOverflowError(`sequence ${s.id}: ${s.length} cached + ${n} new tokens exceed its capacity of ${s.capacity} tokens (max_position_embeddings ${c.max_position_embeddings})`);
      }
      for (let t = 0; t < n; t++) {
        const id = inp.tokens[t];
        if (!(id >= 0 && id < V)) throw new StepInputError(`step: input ${i} token ${t} = ${id} is outside the vocabulary [0, ${V})`);
      }
      R += n;
      nOut += inp.allLogits ? n : 1;
    }
    if (R === 0) return new Float32Array(0);
    if (R > MAX_STEP_ROWS) return this.chunked(inputs, nOut);
    return this.run(inputs, R, nOut);
  }

  /**
   * A step larger than MAX_STEP_ROWS (a long prompt) runs as several: each input alone, in chunks,
   * so scratch stays bounded (a 7B's 4096-token prompt would otherwise need GBs of activations).
   * Same results, rows in the same order.
   */
  private chunked(inputs: StepInput[], nOut: number): Float32Array {
    const V = this.config.vocab_size;
    const out = new Float32Array(nOut * V);
    let o = 0;
    for (const inp of inputs) {
      const n = inp.tokens.length;
      for (let t0 = 0; t0 < n; t0 += MAX_STEP_ROWS) {
        const piece = inp.tokens.subarray(t0, Math.min(n, t0 + MAX_STEP_ROWS));
        const last = t0 + piece.length === n;
        const lg = this.run([{ seq: inp.seq, tokens: piece, allLogits: inp.allLogits }], piece.length, inp.allLogits ? piece.length : 1);
        if (inp.allLogits || last) { out.set(lg, o); o += lg.length; }
      }
    }
    return out;
  }

  private run(inputs: StepInput[], R: number, nOut: number): Float32Array {
    const c = this.config, V = c.vocab_size;
    this.ensureScratch(R);
    for (const inp of inputs) this.ensureKv(inp.seq as KvSequence, inp.seq.length + inp.tokens.length);

    const k = kernels(), d = c.hidden_size, qd = this.H * this.D, kvd = this.Hkv * this.D, F = c.intermediate_size;
    const eps = c.rms_norm_eps;
    // inputs of one token (decoding) share one decodeAttention call per layer: their rows and positions
    const dec: KvSequence[] = [];
    let r = 0;
    for (const inp of inputs) {
      if (inp.tokens.length === 1) {
        this.decRows[dec.length] = r;
        this.decPos[dec.length] = inp.seq.length;
        dec.push(inp.seq as KvSequence);
      }
      this.ids.set(inp.tokens, r);
      r += inp.tokens.length;
    }
    const nDec = dec.length;
    this.decK.length = nDec; this.decV.length = nDec;
    this.w.embed.gatherRows(this.x, this.ids, R);

    for (let l = 0; l < this.w.layers.length; l++) {
      const L = this.w.layers[l];
      k.rmsnormForward(this.xn, null, this.x, L.attnNorm, R, d, eps);
      L.qkv.matmul(this.qkv, this.xn, R);
      if (R > 1) this.unstack(this.qkv, R, qd, kvd, kvd, this.q, this.kb, this.vb);
      const qAll = R === 1 ? this.q1 : this.q, kAll = R === 1 ? this.k1 : this.kb, vAll = R === 1 ? this.v1 : this.vb;
      if (nDec) {
        for (let i = 0; i < nDec; i++) { this.decK[i] = dec[i].k[l]; this.decV[i] = dec[i].v[l]; }
        k.decodeAttention(this.att, qAll, kAll, vAll, this.decK, this.decV, this.decRows.subarray(0, nDec),
          this.decPos.subarray(0, nDec), this.tables.cos, this.tables.sin, this.decArgs);
      }
      let row = 0;
      for (const inp of inputs) {
        const s = inp.seq as KvSequence, n = inp.tokens.length;
        if (n === 1) { row += 1; continue; }  // done above
        const one = row === 0 && n === R;  // a single sequence uses the buffers whole (no views)
        const q = one ? qAll : qAll.subarray(row * qd, (row + n) * qd);
        // what goes into the cache must be exactly n rows
        const kn = kAll.subarray(row * kvd, (row + n) * kvd);
        k.ropeForward(q, q, this.tables.cos, this.tables.sin, 1, n, this.H, this.D, s.length);
        k.ropeForward(kn, kn, this.tables.cos, this.tables.sin, 1, n, this.Hkv, this.D, s.length);
        s.k[l].set(kn, s.length * kvd);
        s.v[l].set(vAll.subarray(row * kvd, (row + n) * kvd), s.length * kvd);
        const a = this.attn;
        a.Tq = n; a.Tk = s.length + n; a.kvCap = s.rows;
        k.attentionForward(one ? this.att : this.att.subarray(row * qd, (row + n) * qd), null, q, s.k[l], s.v[l], a);
        row += n;
      }
      L.o.matmul(this.proj, this.att, R);
      k.add(this.x, this.x, this.proj, R * d);
      k.rmsnormForward(this.xn, null, this.x, L.mlpNorm, R, d, eps);
      L.gateUp.matmul(this.gu, this.xn, R);
      if (R > 1) this.unstack(this.gu, R, F, F, 0, this.gate, this.up, null);
      const g = R === 1 ? this.g1 : this.gate, u = R === 1 ? this.u1 : this.up;
      k.swigluForward(g, g, u, R * F);
      L.down.matmul(this.proj, g, R);
      k.add(this.x, this.x, this.proj, R * d);
    }
    for (const inp of inputs) (inp.seq as KvSequence).length += inp.tokens.length;

    // rows that need logits, gathered, normed, through the head (decode: every row, no gathering)
    if (nOut === R) {
      k.rmsnormForward(this.sel, null, this.x, this.w.norm, R, d, eps);
    } else {
      let src = 0, dst = 0;
      for (const inp of inputs) {
        const n = inp.tokens.length;
        if (inp.allLogits) {
          this.sel.set(this.x.subarray(src * d, (src + n) * d), dst * d);
          dst += n;
        } else {
          this.sel.set(this.x.subarray((src + n - 1) * d, (src + n) * d), dst * d);
          dst += 1;
        }
        src += n;
      }
      k.rmsnormForward(this.sel, null, this.sel, this.w.norm, nOut, d, eps);
    }
    const logits = new Float32Array(nOut * V);
    this.w.head.matmul(logits, this.sel, nOut);
    return logits;
  }

  private alive(): void {
    if (this.disposed) throw new Error('InferenceModel: used after dispose()');
  }

  private own(seq: Sequence): KvSequence {
    this.alive();
    if (!(seq instanceof KvSequence) || seq.owner !== this) throw new Error(`sequence ${seq?.id} does not belong to this model`);
    if (seq.freed) throw new Error(`sequence ${seq.id} was freed`);
    return seq;
  }

  /** splits R rows of [a | b | c] (stacked matmul outputs; c may be 0 wide) into contiguous [R, a], [R, b], [R, c] */
  private unstack(src: Float32Array, R: number, a: number, b: number, c: number, oa: Float32Array, ob: Float32Array, oc: Float32Array | null): void {
    const k = kernels(), sp = this.split;
    sp.shape[0] = R; sp.strides[0] = a + b + c;
    sp.shape[1] = a; k.copyStrided(oa, src, sp.shape, sp.strides, 0);
    sp.shape[1] = b; k.copyStrided(ob, src, sp.shape, sp.strides, a);
    if (oc) { sp.shape[1] = c; k.copyStrided(oc, src, sp.shape, sp.strides, a + b); }
  }

  private ensureScratch(R: number): void {
    if (R <= this.cap) return;
    const cap = Math.max(R, Math.min(2 * this.cap, 1 << 14));
    const c = this.config, d = c.hidden_size, qd = this.H * this.D, kvd = this.Hkv * this.D, F = c.intermediate_size;
    this.cap = cap;
    this.ids = new Int32Array(cap);
    this.decRows = new Int32Array(cap);
    this.decPos = new Int32Array(cap);
    this.x = new Float32Array(cap * d);
    this.xn = new Float32Array(cap * d);
    this.sel = new Float32Array(cap * d);
    this.proj = new Float32Array(cap * d);
    this.q = new Float32Array(cap * qd);
    this.att = new Float32Array(cap * qd);
    this.kb = new Float32Array(cap * kvd);
    this.vb = new Float32Array(cap * kvd);
    this.gate = new Float32Array(cap * F);
    this.up = new Float32Array(cap * F);
    this.qkv = new Float32Array(cap * (qd + 2 * kvd));
    this.gu = new Float32Array(cap * 2 * F);
    this.q1 = this.qkv.subarray(0, qd);
    this.k1 = this.qkv.subarray(qd, qd + kvd);
    this.v1 = this.qkv.subarray(qd + kvd, qd + 2 * kvd);
    this.g1 = this.gu.subarray(0, F);
    this.u1 = this.gu.subarray(F, 2 * F);
  }

  private ensureKv(s: KvSequence, need: number): void {
    if (need <= s.rows) return;
    let rows = Math.max(s.rows, Math.min(KV_INITIAL_ROWS, s.capacity));
    while (rows < need) rows *= 2;
    rows = Math.min(rows, s.capacity);
    const kvd = this.Hkv * this.D;
    const fresh = this.takeKv(rows);
    if (s.length > 0) {
      for (let l = 0; l < this.w.layers.length; l++) {
        fresh.k[l].set(s.k[l].subarray(0, s.length * kvd));
        fresh.v[l].set(s.v[l].subarray(0, s.length * kvd));
      }
    }
    this.giveKv(s);
    s.k = fresh.k; s.v = fresh.v; s.rows = rows;
  }

  /**
   * KV buffers of `rows` rows per layer: reused from freed sequences when there are some (fresh
   * memory costs page faults on first touch, a visible share of a short request's prefill), else new.
   * Reused rows hold an old sequence's values; attention never reads rows at or past a sequence's length.
   */
  private takeKv(rows: number): { k: Float32Array[]; v: Float32Array[] } {
    const list = this.kvFree.get(rows);
    const hit = list?.pop();
    if (hit) { this.kvFreeBytes -= this.kvBytes(rows); return hit; }
    const kvd = this.Hkv * this.D, k: Float32Array[] = [], v: Float32Array[] = [];
    for (let l = 0; l < this.w.layers.length; l++) { k.push(new Float32Array(rows * kvd)); v.push(new Float32Array(rows * kvd)); }
    return { k, v };
  }

  /** keeps a sequence's buffers for reuse, up to KV_POOL_BYTES in all */
  private giveKv(s: KvSequence): void {
    if (s.rows === 0 || s.k.length === 0) return;
    const bytes = this.kvBytes(s.rows);
    if (this.kvFreeBytes + bytes > KV_POOL_BYTES) return;
    let list = this.kvFree.get(s.rows);
    if (!list) this.kvFree.set(s.rows, (list = []));
    list.push({ k: s.k, v: s.v });
    this.kvFreeBytes += bytes;
  }

  private kvBytes(rows: number): number {
    return 2 * this.w.layers.length * rows * this.Hkv * this.D * 4;
  }

}
