// `dsllm generate` and `dsllm chat` on a tiny model saved as an HF directory, against the in-memory
// model run by the independent greedy reference (full recompute, explicit LM-head dot products).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../../src/backends/select.js';
import { saveModel } from '../../src/io/hf-dir.js';
import { saveHfJson } from '../../src/tokenizer/formats/load.js';
import { exportGguf } from '../../src/io/gguf-export.js';
import { renderChat } from '../../src/tokenizer/chat-template.js';
import { tinyModel, referenceGreedy, byteTokenizer, EOS } from './gen-helpers.js';

await selectBackend();

const CLI = fileURLToPath(new URL('../../src/cli/index.js', import.meta.url));
const run = (args: string[], input = '') => {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const dir = mkdtempSync(join(tmpdir(), 'dsllm-gen-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const lm = tinyModel(3, { vocab_size: 260, max_position_embeddings: 96, eos_token_id: EOS });
const withTok = join(dir, 'with-tokenizer'), noTok = join(dir, 'ids-only');
saveModel(lm, withTok);
saveHfJson(byteTokenizer(), join(withTok, 'tokenizer.json'));
saveModel(lm, noTok);
const gguf = join(dir, 'tiny.gguf');
exportGguf(lm, gguf, { type: 'f32' }); // with dsllm's byte-level vocabulary: bytes 0–255, EOS 256

test('generate --prompt-ids --print-ids equals the reference greedy ids (directory without a tokenizer)', () => {
  const prompt = [72, 101, 108, 108, 111];
  const r = run(['generate', '--model', noTok, '--prompt-ids', prompt.join(' '), '--max-tokens', '24', '--greedy', '--print-ids']);
  assert.equal(r.status, 0, r.stderr);
  const want = referenceGreedy(lm, prompt, 24, 260, [EOS]);
  assert.equal(r.stdout, want.join(' ') + '\n');
  // the full-recompute runner agrees; q8_0 weights run (their greedy path may differ, so only the count)
  const rr = run(['generate', '--model', noTok, '--prompt-ids', prompt.join(' '), '--max-tokens', '24', '--greedy', '--print-ids', '--recompute']);
  assert.equal(rr.stdout, r.stdout, rr.stderr);
  const q = run(['generate', '--model', noTok, '--prompt-ids', prompt.join(' '), '--max-tokens', '8', '--greedy', '--print-ids', '--weights', 'q8_0', '--ignore-eos']);
  assert.equal(q.status, 0, q.stderr);
  assert.equal(q.stdout.trim().split(' ').length, 8);
  // --json with the tokenizer: same ids, text = their decoding, seeded sampling reproducible
  const j = JSON.parse(run(['generate', '--model', withTok, '--prompt', 'Hello', '--max-tokens', '24', '--greedy', '--json']).stdout);
  assert.deepEqual(j.ids, want);
  assert.equal(j.text, byteTokenizer().decode(want.filter((id) => id !== EOS), { skipSpecial: true }));
  const s1 = run(['generate', '--model', withTok, '--prompt', 'Hello', '--max-tokens', '16', '--seed', '4', '--top-p', '0.9', '--print-ids']);
  const s2 = run(['generate', '--model', withTok, '--prompt', 'Hello', '--max-tokens', '16', '--seed', '4', '--top-p', '0.9', '--print-ids']);
  assert.equal(s1.status, 0, s1.stderr);
  assert.equal(s1.stdout, s2.stdout);
});

test('generate from a GGUF file (weights and vocabulary inside) equals the reference greedy ids', () => {
  const prompt = [72, 101, 108, 108, 111];
  const want = referenceGreedy(lm, prompt, 20, 260, [EOS]);
  const r = run(['generate', '--model', gguf, '--prompt-ids', prompt.join(' '), '--max-tokens', '20', '--greedy', '--print-ids']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, want.join(' ') + '\n');
  const j = JSON.parse(run(['generate', '--model', gguf, '--prompt', 'Hello', '--max-tokens', '20', '--greedy', '--json']).stdout);
  assert.deepEqual(j.ids, want);
  const rr = run(['generate', '--model', gguf, '--prompt-ids', prompt.join(' '), '--max-tokens', '20', '--greedy', '--print-ids', '--recompute']);
  assert.equal(rr.stdout, r.stdout, rr.stderr);
});

test('chat: two piped turns, each reply = the reference greedy reply to the templated conversation', () => {
  const tok = byteTokenizer();
  const r = run(['chat', '--model', withTok, '--greedy', '--max-tokens', '10'], 'Hi\n/system Be brief.\nWhat?\n');
  assert.equal(r.status, 0, r.stderr);
  const reply = (messages: { role: string; content: string }[]) => {
    // the byte tokenizer has no BOS: the template's bos_token renders as ''
    const ids = Array.from(tok.encode(renderChat(messages, { bosToken: '', eosToken: '<eos>' }), { special: 'all' }));
    const out = referenceGreedy(lm, ids, 10, 260, [EOS]);
    return tok.decode(out.filter((id) => id !== EOS), { skipSpecial: true });
  };
  const r1 = reply([{ role: 'user', content: 'Hi' }]);
  const r2 = reply([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: r1.trim() }, { role: 'user', content: 'What?' }]);
  assert.equal(r.stdout, r1.trimStart() + '\n' + r2.trimStart() + '\n');
  assert.match(r.stderr, /system prompt set/);
});

test('errors: one line, exit 2, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['generate', '--model', join(dir, 'nope'), '--prompt-ids', '1 2'], /nope: no such model directory/],
    [['generate', '--model', noTok, '--prompt-ids', '1 x 3'], /--prompt-ids: item 2 "x" is not a token id/],
    [['generate', '--model', noTok, '--prompt-ids', '1 999'], /id 999, outside the model's vocabulary \(0\.\.259\)/],
    [['generate', '--model', noTok, '--prompt-ids', Array(96).fill(7).join(' ')], /prompt has 96 tokens; the model's context is 96/],
    [['generate', '--model', noTok, '--prompt', 'hi'], /--prompt needs a tokenizer/],
    [['generate', '--model', noTok, '--prompt-ids', '1', '--top-p', '2'], /topP 2 must be in \(0, 1\]/],
    [['generate', '--model', noTok, '--prompt-ids', '1', '--max-tokens', 'ten'], /--max-tokens expects an integer/],
    [['generate', '--model', noTok], /exactly one of --prompt and --prompt-ids/],
    [['chat', '--model', noTok], /chat needs a tokenizer/],
    [['generate', '--model', join(dir, 'm.gguf'), '--prompt-ids', '1'], /no such model/],
    [['generate', '--model', join(withTok, 'config.json'), '--prompt-ids', '1'], /not a model directory \(config\.json \+ safetensors\) or a GGUF file/],
  ];
  mkdirSync(join(dir, 'empty'), { recursive: true });
  writeFileSync(join(dir, 'empty', 'config.json'), '{"vocab_size": 10}');
  cases.push([['generate', '--model', join(dir, 'empty'), '--prompt-ids', '1'], /config/]);
  for (const [args, re] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});
