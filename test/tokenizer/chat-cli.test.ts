// The chat template (DeepSeek's, rendered with @huggingface/jinja) and the CLI interface other tools rely on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { renderChat } from '../../src/tokenizer/chat-template.js';
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
