// `dsllm serve`: loads a model once and serves it over OpenAI-compatible HTTP (plus the web chat page
// at /) until interrupted. Every request goes to one shared engine, which decodes them together.
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { selectBackend } from '../backends/select.js';
import { loadCausalLM } from '../infer/load-causal-lm.js';
import { createEngine } from '../infer/engine.js';
import { createDsllmServer } from '../serve/server.js';
import { UserError } from './errors.js';
import { addModelOptions, addSamplingOptions, intFlag, loadOptionsFromFlags, samplingFromFlags, type ModelFlags, type SamplingFlags } from './infer-flags.js';

interface ServeFlags extends SamplingFlags, ModelFlags {
  host: string;
  port: string;
  apiKey?: string;
  maxBatch: string;
  modelName?: string;
  quiet?: boolean;
}

export function registerServe(program: Command): void {
  const cmd = program.command('serve')
    .description('OpenAI-compatible HTTP server (/v1/chat/completions, /v1/completions, /v1/models, /health) and a web chat page at /');
  addModelOptions(cmd);
  cmd
    .option('--host <host>', 'address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .option('--port <n>', 'port to listen on', '8000')
    .option('--api-key <key>', 'require "Authorization: Bearer <key>" on /v1/* (default: $DSLLM_API_KEY; none: open)')
    .option('--max-batch <n>', 'most requests decoded together', '32')
    .option('--model-name <id>', 'the model id clients ask for (default: the model directory or file name)')
    .option('--quiet', 'no per-request log lines');
  addSamplingOptions(cmd);
  cmd.action(async (o: ServeFlags) => {
    const port = intFlag('--port', o.port, 0);
    if (port > 65535) throw new UserError(`--port expects a port number (0–65535), got ${port}`);
    const maxBatch = intFlag('--max-batch', o.maxBatch, 1);
    const apiKey = o.apiKey ?? (process.env.DSLLM_API_KEY || undefined);
    await selectBackend();
    const loaded = loadCausalLM(o.model, loadOptionsFromFlags(o));
    const { model, tokenizer } = loaded;
    if (!tokenizer) throw new UserError(`serve needs a tokenizer: ${o.model} has no tokenizer.json (give --tokenizer)`);
    const engine = createEngine(model, { tokenizer, eosIds: loaded.eosIds, maxBatch });
    const modelId = o.modelName ?? basename(resolve(o.model)).replace(/\.gguf$/i, '');
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const server = createDsllmServer({
      engine, tokenizer, modelId, apiKey,
      chatTemplate: loaded.chat.template, bosToken: loaded.chat.bosToken, eosToken: loaded.chat.eosToken,
      stopIds: loaded.eosIds,
      samplingDefaults: samplingFromFlags(o, loaded.sampling),
      log: o.quiet ? undefined : log,
    });
    let addr;
    try {
      addr = await server.listen(port, o.host);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EADDRINUSE') throw new UserError(`port ${port} on ${o.host} is already in use (give another --port)`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`cannot listen on ${o.host}: not an address of this machine`);
      if (code === 'EACCES') throw new UserError(`not allowed to listen on port ${port} (ports below 1024 need privileges)`);
      throw e;
    }
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${host}:${addr.port}`;
    process.stderr.write(`dsllm serve: ${modelId} (context ${server.context.contextLength}, batch ≤ ${maxBatch}) on ${url}\n` +
      `  chat page ${url}/ · API ${url}/v1 (OpenAI-compatible)${apiKey ? ' · API key required' : ''}\n`);

    await new Promise<void>((done) => {
      const stop = (sig: string) => {
        log(`${sig}: shutting down`);
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        done();
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    await engine.close();
    await server.close();
    model.dispose();
  });
}
