// A plain-TypeScript model of what llama.cpp's CPU backend computes for a `llama` GGUF, written from
// ggml's definitions (not from dsllm's model code): weights read raw from the file in llama.cpp's
// layout (Wq/Wk rows already permuted), RoPE on adjacent pairs (2i, 2i+1), and every matmul with the
// activations converted to the weight's vec_dot type first, as ggml does:
//   F32 → f32;  F16 → x rounded to f16;  BF16 → x rounded to bf16;
//   Q8_0 / Q4_0 → x quantized to Q8_0 by ggml's x86 quantize_row_q8_0 (d = amax/127,
//   q = round-half-even(x·(127/amax))), then Σ_blocks d_w·d_x·Σ q_w·q_x in the kernels' f32 order;
// rms_norm's scale in f32 as ggml computes it.
// Used by the parity tests to explain quantized results to ~1e-5 instead of "close".
import { readGgufTensor, type GgufFile, GGML } from '../../src/io/gguf.js';
import { f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, bf16BitsToF32, dequantizeQ4_0, dequantizeQ8_0 } from '../../src/io/ggml-quants.js';
import { fmaF32 } from '../../src/backends/reference/quant.js';

const fr = Math.fround;

interface Mat { type: number; rows: number; cols: number; f: Float32Array; /** per block: d, then 32 ints */ qd?: Float32Array; qi?: Int8Array }

function load(f: GgufFile, name: string): Mat {
  const t = f.byName.get(name)!;
  const b = readGgufTensor(f, name);
  const cols = t.ne[0], rows = t.ne.length > 1 ? t.ne[1] : 1, n = rows * cols;
  const m: Mat = { type: t.type, rows, cols, f: new Float32Array(n) };
  const u16 = () => new Uint16Array(b.buffer, b.byteOffset, n);
  switch (t.type) {
    case GGML.F32: m.f.set(new Float32Array(b.buffer, b.byteOffset, n)); break;
    case GGML.F16: u16().forEach((h, i) => { m.f[i] = f16BitsToF32(h); }); break;
    case GGML.BF16: u16().forEach((h, i) => { m.f[i] = bf16BitsToF32(h); }); break;
    case GGML.Q8_0: case GGML.Q4_0: {
      const bb = t.type === GGML.Q8_0 ? 34 : 18, nb = n / 32;
      m.qd = new Float32Array(nb); m.qi = new Int8Array(n);
      for (let i = 0; i < nb; i++) {
        m.qd[i] = f16BitsToF32(b[i * bb] | (b[i * bb + 1] << 8));
        for (let j = 0; j < 32; j++) {
          m.qi[i * 32 + j] = t.type === GGML.Q8_0 ? (b[i * bb + 2 + j] << 24) >> 24
            : (j < 16 ? b[i * bb + 2 + j] & 15 : b[i * bb + 2 + j - 16] >> 4) - 8;
        }
      }
      m.f = t.type === GGML.Q8_0 ? dequantizeQ8_0(b) : dequantizeQ4_0(b);
      break;
    }
    default: throw new Error(`reference: ${t.typeName} not modelled`);
  }
  return m;
}

/** round half to even, as _mm256_round_ps(_MM_ROUND_NEAREST) */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** x quantized as ggml's x86 quantize_row_q8_0 (activations) */
function quantX(x: Float32Array): { d: Float32Array; q: Int8Array } {
  const nb = x.length / 32, d = new Float32Array(nb), q = new Int8Array(x.length);
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[i * 32 + j]));
    d[i] = f16BitsToF32(f32ToF16Bits(fr(amax / 127)));
    const id = amax ? fr(127 / amax) : 0;
    for (let j = 0; j < 32; j++) q[i * 32 + j] = rint(fr(x[i * 32 + j] * id));
  }
  return { d, q };
}

/** y[r] = W[r]·x for each of W's rows (x of length cols), with ggml's activation conversion */
function matvec(W: Mat, x: Float32Array): Float32Array {
  const y = new Float32Array(W.rows), c = W.cols;
  if (W.type === GGML.Q8_0 || W.type === GGML.Q4_0) {
    const { d, q } = quantX(x);
    const nb = c / 32;
    // the f32 order of ggml's x86 kernels: Q8_0 (vec_dot / tinyBLAS) 8 lanes of 4 products, each an
    // fma chain over the blocks, then summed (4+4, 2+2, 1+1); Q4_0 (repacked gemv) one fma chain
    const lanes = new Float64Array(8);
    for (let r = 0; r < W.rows; r++) {
      let acc = 0;
      lanes.fill(0);
      for (let b = 0; b < nb; b++) {
        const o = r * c + b * 32, sc = fr(W.qd![r * nb + b] * d[b]);
        if (W.type === GGML.Q8_0) {
          for (let L = 0; L < 8; L++) {
            let s = 0;
            for (let j = 4 * L; j < 4 * L + 4; j++) s += W.qi![o + j] * q[b * 32 + j];
            lanes[L] = fmaF32(s, sc, lanes[L]);
          }
        } else {
          let s = 0;
          for (let j = 0; j < 32; j++) s += W.qi![o + j] * q[b * 32 + j];
          acc = fmaF32(s, sc, acc);
        }
      }
      if (W.type === GGML.Q8_0) {
        const h = [0, 1, 2, 3].map((i) => fr(lanes[i + 4] + lanes[i]));
        acc = fr(fr(h[0] + h[2]) + fr(h[1] + h[3]));
      }
      y[r] = acc;
    }
    return y;
  }
  const xs = W.type === GGML.F16 ? x.map((v) => f16BitsToF32(f32ToF16Bits(v)))
    : W.type === GGML.BF16 ? x.map((v) => bf16BitsToF32(f32ToBf16Bits(v))) : x;
  for (let r = 0; r < W.rows; r++) {
    let acc = 0;
    for (let j = 0; j < c; j++) acc += W.f[r * c + j] * xs[j];
    y[r] = acc;
  }
  return y;
}

/** ggml's rms_norm then mul: Σ of f32 squares in f64, mean rounded to f32, scale = 1/sqrtf(mean + eps) */
function rmsnorm(x: Float32Array, w: Float32Array, eps: number): Float32Array {
  let ss = 0;
  for (const v of x) ss += fr(v * v);
  const scale = fr(1 / fr(Math.sqrt(fr(fr(ss / x.length) + eps))));
  return x.map((v, i) => fr(fr(v * scale) * w[i]));
}

/** llama.cpp's normal-mode RoPE: pairs (2i, 2i+1) of each head, θ = pos·base^(−2i/D) */
function rope(x: Float32Array, heads: number, D: number, pos: number, base: number): void {
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < D / 2; i++) {
      const th = pos * Math.pow(base, (-2 * i) / D);
      const c = Math.cos(th), s = Math.sin(th);
      const a = x[h * D + 2 * i], b = x[h * D + 2 * i + 1];
      x[h * D + 2 * i] = a * c - b * s;
      x[h * D + 2 * i + 1] = a * s + b * c;
    }
  }
}

/** logits [T, V] of the token ids through the GGUF model, the way llama.cpp computes them */
export function ggmlReferenceLogits(f: GgufFile, ids: number[]): Float32Array[] {
  const n = (k: string) => f.kv.get(`llama.${k}`) as number;
  const L = n('block_count'), d = n('embedding_length'), H = n('attention.head_count'), Hkv = n('attention.head_count_kv');
  const eps = fr(n('attention.layer_norm_rms_epsilon')), base = n('rope.freq_base'), D = d / H;
  const emb = load(f, 'token_embd.weight');
  const out = f.byName.has('output.weight') ? load(f, 'output.weight') : emb;
  const onorm = load(f, 'output_norm.weight').f;
  const layers = Array.from({ length: L }, (_, l) => {
    const g = (p: string) => load(f, `blk.${l}.${p}.weight`);
    return { an: g('attn_norm').f, q: g('attn_q'), k: g('attn_k'), v: g('attn_v'), o: g('attn_output'), fn: g('ffn_norm').f, gate: g('ffn_gate'), up: g('ffn_up'), down: g('ffn_down') };
  });
  const K: Float32Array[][] = layers.map(() => []), Vc: Float32Array[][] = layers.map(() => []);
  const logits: Float32Array[] = [];
  ids.forEach((id, pos) => {
    let x = emb.f.slice(id * d, (id + 1) * d);
    layers.forEach((ly, l) => {
      const xn = rmsnorm(x, ly.an, eps);
      const q = matvec(ly.q, xn), k = matvec(ly.k, xn), v = matvec(ly.v, xn);
      rope(q, H, D, pos, base);
      rope(k, Hkv, D, pos, base);
      K[l].push(k); Vc[l].push(v);
      const att = new Float32Array(H * D);
      for (let h = 0; h < H; h++) {
        const kh = Math.floor(h / (H / Hkv));
        const sc = K[l].map((kk) => { let s = 0; for (let j = 0; j < D; j++) s += q[h * D + j] * kk[kh * D + j]; return s / Math.sqrt(D); });
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx)), z = e.reduce((a, b) => a + b, 0);
        for (let t = 0; t < e.length; t++) for (let j = 0; j < D; j++) att[h * D + j] += (e[t] / z) * Vc[l][t][kh * D + j];
      }
      const o = matvec(ly.o, att);
      x = x.map((v2, i) => v2 + o[i]);
      const hn = rmsnorm(x, ly.fn, eps);
      const gt = matvec(ly.gate, hn), up = matvec(ly.up, hn);
      const act = gt.map((gv, i) => (gv / (1 + Math.exp(-gv))) * up[i]);
      const dn = matvec(ly.down, act);
      x = x.map((v2, i) => v2 + dn[i]);
    });
    logits.push(matvec(out, rmsnorm(x, onorm, eps)));
  });
  return logits;
}
