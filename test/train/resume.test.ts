// Exact resume: a run killed with SIGKILL three times at random steps and resumed each time logs
// the same loss, bit for bit, at every step as an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, sharedPath } from '../util.js';

const cli = 'dist/src/cli/index.js';
const corpus = sharedPath('data', 'corpus', 'en', 'tinyshakespeare.txt');
const root = mkdtempSync(join(tmpdir(), 'dsllm-resume-'));
const cfgPath = join(root, 'tiny.json');
writeFileSync(cfgPath, JSON.stringify({
  vocab_size: 257, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, max_position_embeddings: 32,
}));
const args = (out: string) => ['--config', cfgPath, '--data', corpus!, '--out', out, '--steps', '40', '--batch', '4', '--seq-len', '32',
  '--lr', '3e-3', '--checkpoint-every', '3', '--eval-every', '10', '--eval-batches', '2', '--quiet'];

function losses(out: string): string[] {
  // compare the printed numbers as text: JSON.stringify prints the shortest round-trip form, so equal text ⇔ equal bits
  return readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l)).filter((r) => r.loss !== undefined).map((r) => `${r.step}:${JSON.stringify(r.loss)}:${JSON.stringify(r.val_loss ?? null)}`);
}

function stepsLogged(out: string): number {
  const p = join(out, 'log.jsonl');
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean).length : 0;
}

test('kill -9 at three random steps, resume each time: the loss curve is bitwise identical', { skip: corpus ? false : 'needs ../shared/data' }, async () => {
  const ref = join(root, 'ref');
  const r = spawnSync(process.execPath, [cli, 'train', ...args(ref)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const expected = losses(ref);
  assert.equal(expected.length, 40);

  const out = join(root, 'killed');
  const rng = new Rng(99);
  let resume = false;
  for (let kill = 0; kill < 3; kill++) {
    const target = 5 + kill * 11 + rng.int(8);
    const child = spawn(process.execPath, [cli, 'train', ...args(out), ...(resume ? ['--resume'] : [])], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (stepsLogged(out) >= target) { child.kill('SIGKILL'); clearInterval(timer); }
      }, 5);
      child.on('exit', (code, sig) => { clearInterval(timer); sig === 'SIGKILL' ? resolve() : reject(new Error(`run ended before the kill (code ${code})`)); });
    });
    resume = true;
    // only complete checkpoints are visible under their final name
    for (const d of readdirSync(join(out, 'checkpoints')).filter((d) => d.startsWith('step-'))) {
      assert.ok(existsSync(join(out, 'checkpoints', d, 'trainer_state.json')), `${d} is incomplete`);
    }
  }
  const fin = spawnSync(process.execPath, [cli, 'train', ...args(out), '--resume'], { encoding: 'utf8' });
  assert.equal(fin.status, 0, fin.stderr);
  assert.deepEqual(losses(out), expected);
});

test('bad input: missing data file, vocabulary too small, NaN-free clear exit codes', () => {
  const miss = spawnSync(process.execPath, [cli, 'train', '--config', cfgPath, '--data', join(root, 'nope.txt'), '--out', join(root, 'x'), '--steps', '2'], { encoding: 'utf8' });
  assert.notEqual(miss.status, 0);
  assert.match(miss.stderr, /nope\.txt: no such file/);
  const small = spawnSync(process.execPath, [cli, 'train', '--config', 'nano', '--vocab-size', '100', '--data', corpus ?? cfgPath, '--out', join(root, 'y'), '--steps', '2'], { encoding: 'utf8' });
  assert.notEqual(small.status, 0);
  assert.match(small.stderr, /vocabulary of 257; the model has 100/);
  const huge = spawnSync(process.execPath, [cli, 'train', '--config', 'deepseek-llm-67b', '--data', corpus ?? cfgPath, '--out', join(root, 'z'), '--steps', '2'], { encoding: 'utf8' });
  assert.notEqual(huge.status, 0);
  assert.match(huge.stderr, /needs about \d+(\.\d)? GiB/);
});
