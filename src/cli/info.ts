// `dsllm info --config <preset|name|config.json|model dir> [--seq-len N] [--json]`
// Parameter counts and FLOPs per token of a configuration, without allocating any weight.
import type { Command } from 'commander';
import { countParams, flopsPerToken, loadConfig, PRESETS } from '../nn/config.js';

export function modelInfo(spec: string, seqLen?: number) {
  const c = loadConfig(spec);
  const p = countParams(c);
  const f = flopsPerToken(c, seqLen);
  return {
    config: spec,
    params: p.total,
    non_embedding_params: p.non_embedding,
    embedding_params: p.embedding,
    lm_head_params: p.lm_head,
    per_layer_params: p.per_layer,
    flops_per_token: { M: f.M, '6N1': f['6N1'], '6N2': f['6N2'], train_exact: f.train_exact, forward_exact: f.forward_exact, seq_len: f.seq_len },
    shape: {
      layers: c.num_hidden_layers, d_model: c.hidden_size, heads: c.num_attention_heads, kv_heads: c.num_key_value_heads,
      head_dim: c.head_dim ?? c.hidden_size / c.num_attention_heads, ffn: c.intermediate_size, vocab: c.vocab_size,
    },
    hf_config: c,
  };
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('parameter counts and FLOPs/token of a model configuration (no weights allocated)')
    .requiredOption('-c, --config <spec>', `a preset (${Object.keys(PRESETS).join(', ')}), a config.json or a model directory`)
    .option('--seq-len <n>', 'sequence length for the attention FLOPs (default: the preset\'s training length)', (v) => parseInt(v, 10))
    .option('--json', 'print JSON')
    .action((o: { config: string; seqLen?: number; json?: boolean }) => {
      const info = modelInfo(o.config, o.seqLen);
      if (o.json) { process.stdout.write(JSON.stringify(info) + '\n'); return; }
      const n = (x: number) => x.toLocaleString('en-US');
      const s = info.shape;
      process.stdout.write(
        `${o.config}: ${s.layers} layers, d_model ${s.d_model}, ${s.heads} heads (${s.kv_heads} kv, head_dim ${s.head_dim}), FFN ${s.ffn}, vocab ${s.vocab}\n` +
        `parameters            ${n(info.params)}\n` +
        `  non-embedding       ${n(info.non_embedding_params)}\n` +
        `  embedding / head    ${n(info.embedding_params)} / ${n(info.lm_head_params)}\n` +
        `FLOPs/token (l_seq ${info.flops_per_token.seq_len})\n` +
        `  M (paper eq. 2)     ${info.flops_per_token.M.toExponential(4)}\n` +
        `  6N1 / 6N2           ${info.flops_per_token['6N1'].toExponential(4)} / ${info.flops_per_token['6N2'].toExponential(4)}\n` +
        `  exact train / fwd   ${info.flops_per_token.train_exact.toExponential(4)} / ${info.flops_per_token.forward_exact.toExponential(4)}\n`);
    });
}
