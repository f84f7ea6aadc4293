// The chat template (DeepSeek's, rendered with @huggingface/jinja) and the CLI interface other tools rely on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { renderChat } from '../../src/tokenizer/chat-template.js';
import { loadTokenizer } from '../../src/tokenizer/formats/load.js';
import { SKIP, data, idsLine, vocabInputs, vocabOutputs } from './data.js';

const CLI = fileURLToPath(new URL('../../src/cli/index.js', import.meta.url));
const run = (args: string[], input: string | Buffer) => spawnSync(process.execPath, [CLI, ...args], { input });

test('DeepSeek chat template renders the README layout', () => {
  const text = renderChat([
    { role: 'user', content: 'u1' }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'u2' },
  ]);
  // FACTS §9: <｜begin▁of▁sentence｜>User: {u1}\n\nAssistant: {a1}<｜end▁of▁sentence｜>User: {u2}\n\nAssistant:
  assert.equal(text, '<｜begin▁of▁sentence｜>User: u1\n\nAssistant: a1<｜end▁of▁sentence｜>User: u2\n\nAssistant:');
  assert.throws(() => renderChat([{ role: 'user' }]), /messages\[0\] must be \{role: string, content: string\}/);
});

test('CLI encode/decode: stdin verbatim, .out ids, --add-bos, --json', { skip: SKIP }, () => {
  const vocab = data('tokenizers', 'gpt-2-vocab.gguf');
  const inp = vocabInputs('gpt-2'), out = vocabOutputs('gpt-2');
  for (const i of [7, inp.length - 1]) {
    const r = run(['tokenizer', 'encode', '--tokenizer', vocab], inp[i]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(' ' + r.stdout.toString().trim(), out[i] === '' ? ' ' : out[i]);
    const back = run(['tokenizer', 'decode', '--tokenizer', vocab], r.stdout);
    assert.equal(back.stdout.toString(), inp[i]);
  }
  const ds = data('tokenizers', 'deepseek-llm-vocab.gguf');
  const j = run(['tokenizer', 'encode', '--tokenizer', ds, '--add-bos', '--json'], 'Hello world');
  assert.deepEqual(JSON.parse(j.stdout.toString()), [100000, 17464, 1843]);
});

test('CLI encode --lines [--threads 2]: a line of ids per input line, equal to encoding each line', () => {
  const tok = loadTokenizer('cl100k_base');
  // a few MB, so that batches are cut and reading overlaps encoding; lines of every kind, no final newline
  const lines = Array.from({ length: 60_000 }, (_, i) => (i % 11 === 0 ? '' : i % 7 === 0 ? `中文 ${i}\r` : `line ${i}: some words, é and 😀`));
  const input = Buffer.from(lines.join('\n') + '\nlast', 'utf8');
  const want = [...lines, 'last'].map((l) => Array.from(tok.encode(l, { addBos: false })).join(' ')).join('\n') + '\n';
  for (const threads of ['1', '2']) {
    const r = spawnSync(process.execPath, [CLI, 'tokenizer', 'encode', '--tokenizer', 'cl100k_base', '--lines', '--threads', threads], { input, maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), want, `--threads ${threads}`);
  }
  const j = run(['tokenizer', 'encode', '--tokenizer', 'cl100k_base', '--lines', '--json', '--threads', '2'], 'a\n\nb c\n');
  assert.deepEqual(j.stdout.toString().trim().split('\n').map((l) => JSON.parse(l)), [[64], [], [65, 272]]);
  const bad = run(['tokenizer', 'encode', '--tokenizer', 'cl100k_base', '--threads', '2'], 'x');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr.toString(), /--threads needs --lines/);
});

test('CLI: bad input gives one clear line and a non-zero exit, no stack trace', { skip: SKIP }, () => {
  const r = run(['tokenizer', 'encode', '--tokenizer', data('tokenizers', 'README.md')], 'x');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.toString(), /^dsllm: .*README\.md: not a tokenizer file/);
  assert.doesNotMatch(r.stderr.toString(), /\n\s+at /);
  const d = run(['tokenizer', 'decode', '--tokenizer', data('tokenizers', 'gpt-2-vocab.gguf')], '15496 x 995');
  assert.match(d.stderr.toString(), /stdin: item 2 "x" is not a token id/);
  const inv = run(['tokenizer', 'encode', '--tokenizer', data('tokenizers', 'gpt-2-vocab.gguf')], Buffer.from([0x61, 0xff, 0x62]));
  assert.equal(inv.status, 0);
  assert.match(inv.stderr.toString(), /1 invalid UTF-8 sequence\(s\) replaced/);
});
