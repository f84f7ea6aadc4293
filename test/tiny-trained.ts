// A tiny GQA model trained for 60 steps on tinyshakespeare bytes: the "model that dsllm trained" that the
// parity tests hand to peers (llama.cpp, Hugging Face transformers).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../src/nn/config.js';
import { train } from '../src/train/trainer.js';

/** trains in dir/run from the first 200 kB of the corpus file; returns the run (checkpoint, finalLoss) */
export function trainTinyShakespeare(dir: string, corpusFile: string): ReturnType<typeof train> {
  const text = join(dir, 'shakespeare.txt');
  writeFileSync(text, readFileSync(corpusFile, 'utf8').slice(0, 200_000));
  const config = validateConfig({
    vocab_size: 320, hidden_size: 64, intermediate_size: 192, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 2, max_position_embeddings: 256, initializer_range: 0.02,
  });
  const run = train({ config, data: [text], out: join(dir, 'run'), steps: 60, batch: 8, seqLen: 64, lr: 3e-3, warmup: 5, evalEvery: 1000, quiet: true, seed: 7 });
  assert.ok(run.finalLoss < 4.0, `training made progress (loss ${run.finalLoss})`);
  return run;
}
