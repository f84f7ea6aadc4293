// `dsllm chat`: a terminal REPL. Each line is a user turn; the whole conversation is rendered with the
// chat template (tokenizer_config.json's, else DeepSeek LLM chat's) and the reply streams to stdout.
// Commands: /reset, /system <text>, /exit. With stdin not a terminal it reads turns line by line and
// prints each reply on its own line, so it can be scripted: `printf 'Hi\nMore\n' | dsllm chat …`.
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { selectBackend } from '../backends/select.js';
import { loadCausalLM } from '../infer/load-causal-lm.js';
import { createEngine } from '../infer/engine.js';
import { chatPromptIds, type ChatMessage } from '../infer/chat-prompt.js';
import { UserError, isUserError } from './errors.js';
import { addModelOptions, addSamplingOptions, intFlag, loadOptionsFromFlags, samplingFromFlags, type ModelFlags, type SamplingFlags } from './infer-flags.js';

interface ChatFlags extends SamplingFlags, ModelFlags {
  system?: string;
  maxTokens: string;
  stats?: boolean;
}

const HELP = 'commands: /reset (forget the conversation), /system <text> (set the system prompt), /exit';

export function registerChat(program: Command): void {
  const cmd = program.command('chat')
    .description(`multi-turn chat in the terminal with streaming replies (${HELP})`);
  addModelOptions(cmd);
  cmd
    .option('--system <text>', 'system prompt')
    .option('--max-tokens <n>', 'most tokens per reply', '512')
    .option('--stats', 'after each reply, print token counts and speed to stderr');
  addSamplingOptions(cmd);
  cmd.action(async (o: ChatFlags) => {
    const maxTokens = intFlag('--max-tokens', o.maxTokens, 1);
    await selectBackend();
    const loaded = loadCausalLM(o.model, loadOptionsFromFlags(o));
    const { model, tokenizer } = loaded;
    if (!tokenizer) throw new UserError(`chat needs a tokenizer: ${o.model} has no tokenizer.json (give --tokenizer)`);
    const sampling = samplingFromFlags(o, loaded.sampling);
    const engine = createEngine(model, { tokenizer, eosIds: loaded.eosIds });
    const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const out = (s: string) => process.stdout.write(s);
    const note = (s: string) => process.stderr.write(`${s}\n`);
    let system = o.system;
    let history: ChatMessage[] = [];
    let current: AbortController | null = null;

    const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, prompt: '> ' });
    rl.on('SIGINT', () => { if (current) current.abort(); else rl.close(); });
    if (tty) { note(`dsllm chat: ${o.model} (${HELP})`); rl.prompt(); }

    for await (const raw of rl) {
      const line = raw.trim();
      if (line === '/exit' || line === '/quit') break;
      if (line === '/reset') { history = []; note('(conversation reset)'); }
      else if (line === '/system' || line.startsWith('/system ')) { system = line.slice(7).trim() || undefined; note(system ? '(system prompt set)' : '(system prompt cleared)'); }
      else if (line.startsWith('/')) note(`unknown command ${line.split(/\s/)[0]} (${HELP})`);
      else if (line) {
        const messages: ChatMessage[] = [...(system ? [{ role: 'system', content: system }] : []), ...history, { role: 'user', content: raw }];
        const prompt = chatPromptIds(tokenizer, loaded.chat, messages);
        current = new AbortController();
        // the template's generation prompt ends with "Assistant:": the reply's leading space is not shown
        let started = false;
        const t0 = performance.now(), reused0 = engine.reusedTokens;
        let tFirst = 0;
        try {
          const r = await engine.generate({ prompt, maxTokens, sampling, signal: current.signal }, (e) => {
            if (!tFirst) tFirst = performance.now();
            const t = started ? e.text : e.text.trimStart();
            if (t) { started = true; out(t); }
          });
          out('\n');
          history.push({ role: 'user', content: raw }, { role: 'assistant', content: r.text.trim() });
          if (r.finishReason === 'cancelled') note('(reply interrupted)');
          if (o.stats) {
            const t1 = performance.now(), n = r.completionTokens;
            note(`(${r.promptTokens} prompt tokens, ${engine.reusedTokens - reused0} of them cached; first token ${((tFirst - t0) / 1000).toFixed(2)} s; ` +
              `${n} tokens${n > 1 ? `, ${((n - 1) * 1000 / (t1 - tFirst)).toFixed(1)} tokens/s` : ''})`);
          }
        } catch (e) {
          if (!isUserError(e)) throw e;
          note(`dsllm: ${(e as Error).message}${history.length ? ' (/reset starts over)' : ''}`);
        } finally {
          current = null;
        }
      }
      if (tty) rl.prompt();
    }
    rl.close();
    await engine.close();
    model.dispose();
  });
}
