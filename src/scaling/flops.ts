// FLOPs-per-token representations the paper compares (§3, eq. 2, Table 3) for any config, plus the
// non-embedding count of our exact architecture (GQA, real SwiGLU width) the facts sheet uses for 67B.
import { countParams, flopsPerToken, validateConfig, type ModelConfig } from '../nn/config.js';

export interface FlopsRow {
  n_layer: number; d_model: number; seq_len: number;
  /** non-embedding params 12·n·d² (Kaplan N1) and with the vocabulary (N2 = N1 + V·d) */
  N1: number; N2: number;
  /** the paper's M = 72·n·d² + 12·n·d·l_seq */
  M: number;
  '6N1': number; '6N2': number;
  ratio_6N1_M: number; ratio_6N2_M: number;
  /** 6 × the real non-embedding parameters (GQA, FFN width, norms) + 12·n·d·l_seq */
  M_exact: number;
  /** training FLOPs/token including the vocabulary projection (PaLM-style) */
  train_exact: number;
}

export function flopsRow(c: ModelConfig, seqLen: number): FlopsRow {
  const f = flopsPerToken(c, seqLen);
  const n = c.num_hidden_layers, d = c.hidden_size;
  return {
    n_layer: n, d_model: d, seq_len: seqLen,
    N1: f['6N1'] / 6, N2: f['6N2'] / 6, M: f.M, '6N1': f['6N1'], '6N2': f['6N2'],
    ratio_6N1_M: f['6N1'] / f.M, ratio_6N2_M: f['6N2'] / f.M,
    M_exact: 6 * countParams(c).non_embedding + 12 * n * d * seqLen,
    train_exact: f.train_exact,
  };
}

/** the paper's M without building a config */
export const paperM = (nLayer: number, dModel: number, seqLen: number) => 72 * nLayer * dModel * dModel + 12 * nLayer * dModel * seqLen;

/** Table 3's shapes (n_vocab 102400, l_seq 4096; heads of 64, FFN 8/3·d) */
export const TABLE3_SHAPES: [number, number][] = [[8, 512], [12, 768], [24, 1024], [24, 2048], [32, 4096], [40, 5120], [80, 8192]];

export function table3(vocab = 102400, seqLen = 4096): FlopsRow[] {
  return TABLE3_SHAPES.map(([n, d]) => flopsRow(validateConfig({
    vocab_size: vocab, hidden_size: d, intermediate_size: Math.round((8 * d) / 3), num_hidden_layers: n, num_attention_heads: d / 64,
    max_position_embeddings: seqLen,
  }), seqLen));
}
