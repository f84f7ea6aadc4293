// The web chat page in headless Chromium (Debian's `chromium` driven by playwright-core) against the
// server with a scripted engine: type a message, watch the answer stream in, carry on the
// conversation, stop an answer midway. The screenshot goes to the test's temp dir (kept with
// KEEP_SCREENSHOTS=1; copied to docs/chat-page.png with DSLLM_UPDATE_DOCS=1).
// Skipped, saying why, when chromium is not installed (apt-get install -y chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFake, until, type Running } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? false : `chromium not found at ${CHROMIUM} (install it: apt-get install -y chromium, or set CHROMIUM_PATH)`;

const ANSWER = 'Continuous batching decodes every running request together: each step, the linear layers see one row per active sequence, so sixteen clients cost little more than one.';

function reply(prompt: string): string {
  const last = prompt.slice(prompt.lastIndexOf('User: '));
  if (last.includes('And in one word?')) return 'Together.';
  if (last.includes('Talk forever')) return 'blah '.repeat(500);
  return ANSWER;
}

let s: Running;
let browser: import('playwright-core').Browser;
let dir: string;
before(async () => {
  if (SKIP) return;
  s = await startFake({ delayMs: 8, context: 4096, reply });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  dir = mkdtempSync(join(tmpdir(), 'dsllm-chat-page-'));
});
after(async () => {
  await browser?.close();
  await s?.close();
  if (dir && !process.env.KEEP_SCREENSHOTS) rmSync(dir, { recursive: true, force: true });
});

test('chat page: a typed message gets a streamed answer; multi-turn; system prompt; stop', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${s.url}/`);
  await page.waitForFunction(() => document.getElementById('model')!.textContent === 'fake');

  await page.fill('#system', 'You are a helpful assistant.');
  await page.fill('#input', 'What does continuous batching do?');
  await page.press('#input', 'Enter');

  // mid-stream: the answer is partly there and still growing
  await page.waitForFunction(() => {
    const m = document.querySelector('.msg.assistant.streaming');
    return m !== null && (m.textContent ?? '').length > 10;
  });
  const partial = await page.textContent('.msg.assistant');
  assert.ok(partial!.length < ANSWER.length, 'seen before the answer was complete');
  assert.ok(ANSWER.startsWith(partial!), `partial answer ${JSON.stringify(partial)}`);
  await page.waitForSelector('.msg.assistant:not(.streaming) .meta');
  const first = await page.locator('.msg.assistant').first().evaluate((el) => el.firstChild!.textContent);
  assert.equal(first, ANSWER);
  const shot = join(dir, 'chat-page.png');
  await page.screenshot({ path: shot });
  assert.ok(existsSync(shot));
  t.diagnostic(`screenshot: ${shot}${process.env.KEEP_SCREENSHOTS ? '' : ' (removed at the end; KEEP_SCREENSHOTS=1 keeps it)'}`);
  // the README's picture, docs/chat-page.png, is refreshed on request only (a test run leaves the
  // checkout clean): DSLLM_UPDATE_DOCS=1 node --test dist/test/serve/chat-page.test.js
  if (process.env.DSLLM_UPDATE_DOCS) {
    const docs = fileURLToPath(new URL('../../../docs/', import.meta.url));
    mkdirSync(docs, { recursive: true });
    copyFileSync(shot, join(docs, 'chat-page.png'));
  }

  // the system prompt and the first exchange went to the engine with the second question
  await page.fill('#input', 'And in one word?');
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant .meta').length === 2);
  const prompt = s.engine.tokenizer.decode(s.engine.requests.at(-1)!.prompt, { skipSpecial: true });
  assert.equal(prompt, `You are a helpful assistant.\n\nUser: What does continuous batching do?\n\nAssistant: ${ANSWER}User: And in one word?\n\nAssistant:`);
  assert.equal(await page.locator('.msg.assistant').nth(1).evaluate((el) => el.firstChild!.textContent), 'Together.');

  // stop: the button aborts the fetch, the server cancels the engine request
  const cancelled = s.engine.cancelled;
  await page.fill('#input', 'Talk forever');
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => (document.querySelector('.msg.assistant.streaming')?.textContent ?? '').length > 20);
  await page.click('#stop');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant .meta').length === 3);
  assert.match(await page.locator('.msg.assistant .meta').nth(2).textContent() ?? '', /stopped/);
  await until(() => s.engine.cancelled === cancelled + 1);
  assert.equal(await page.isEnabled('#send'), true);
  assert.deepEqual(errors, [], 'no errors in the page');
  await page.close();
});

test('chat page: a server error shows in the page instead of an answer', { skip: SKIP, timeout: 30_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${s.url}/`);
  await page.waitForFunction(() => document.getElementById('model')!.textContent === 'fake');
  await page.click('summary');
  await page.fill('#max_tokens', '100000');
  await page.dispatchEvent('#max_tokens', 'change');
  await page.fill('#input', 'hello');
  await page.press('#input', 'Enter');
  await page.waitForSelector('.msg.error');
  assert.match(await page.textContent('.msg.error') ?? '', /maximum context length is 4096 tokens/);
  await page.evaluate(() => localStorage.clear());
  await page.close();
});

