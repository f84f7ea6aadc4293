// Continual training (DeepSeek LLM §2.3): the multi-step schedule holds the peak LR until 80% of the
// tokens, so a run branched from the end of its first stage into a longer run (`--resume <ckpt>
// --steps N`) is the same run as a fresh one with the longer total. Reference: a fresh 80-step run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '../util.js';

const cli = 'dist/src/cli/index.js';
const corpus = sharedPath('data', 'corpus', 'en', 'tinyshakespeare.txt');
const root = mkdtempSync(join(tmpdir(), 'dsllm-continual-'));
const cfgPath = join(root, 'tiny.json');
writeFileSync(cfgPath, JSON.stringify({
  vocab_size: 257, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, max_position_embeddings: 32,
}));
const args = (out: string, steps: number) => ['train', '--config', cfgPath, '--data', corpus!, '--out', out, '--steps', String(steps), '--batch', '4', '--seq-len', '32',
  '--lr', '3e-3', '--warmup', '4', '--eval-every', '8', '--eval-batches', '2', '--checkpoint-every', '32', '--quiet'];
const run = (a: string[]) => { const r = spawnSync(process.execPath, [cli, ...a], { encoding: 'utf8' }); assert.equal(r.status, 0, r.stderr); };
// equal text of JSON numbers ⇔ equal bits
const curve = (out: string) => readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  .map((r) => `${r.step}:${JSON.stringify(r.loss)}:${JSON.stringify(r.lr)}:${JSON.stringify(r.val_loss ?? null)}`);

test('a run branched at the end of its first LR stage into a longer run equals a fresh longer run, bit for bit', { skip: corpus ? false : 'needs ../shared/data' }, () => {
  const long = join(root, 'long'), short = join(root, 'short'), branch = join(root, 'branch');
  run(args(long, 80));
  run(args(short, 40)); // its first stage ends at 80% of 40 = step 32, where it checkpoints
  const L = curve(long), S = curve(short);
  assert.equal(L.length, 80);
  assert.deepEqual(S.slice(0, 32), L.slice(0, 32));
  assert.notDeepEqual(S.slice(32, 40), L.slice(32, 40)); // the short run's LR dropped
  run([...args(branch, 80), '--resume', join(short, 'checkpoints', 'step-00000032')]);
  assert.deepEqual(curve(branch), L);
});
