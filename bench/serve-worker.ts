// The server under test for `bench serve`, in its own process so the measuring clients do not take
// its CPU time on the same event loop: a random-weight model of a preset (InferenceModel, KV caches),
// the continuous-batching engine, the HTTP server. A byte-level tokenizer keeps prompts cheap; no stop
// ids, so every request generates exactly max_tokens. Prints `port <n>` when listening.
import { selectBackend } from '../src/backends/select.js';
import { PRESETS } from '../src/nn/config.js';
import { DeepSeekLM } from '../src/nn/deepseek.js';
import { InferenceModel } from '../src/infer/model.js';
import { createEngine } from '../src/infer/engine.js';
import { createDsllmServer } from '../src/serve/server.js';
import { Tokenizer } from '../src/tokenizer/tokenizer.js';

const preset = process.argv[2] ?? 'micro';
const maxBatch = Number(process.argv[3] ?? 32);
await selectBackend();
const tokenizer = new Tokenizer({
  name: 'bench:bytes', tokens: Array.from({ length: 256 }, (_, i) => Uint8Array.of(i)), mode: 'merges', merges: [],
  preTokenizer: null, dollar: 'text-end', addedTokens: [], vocabSize: 256,
});
const lm = new DeepSeekLM(PRESETS[preset], { seed: 1 });
const model = InferenceModel.fromModel(lm, { vocabSize: 256 });
const engine = createEngine(model, { tokenizer, eosIds: [], maxBatch });
const server = createDsllmServer({ engine, tokenizer, modelId: preset, stopIds: [] });
const addr = await server.listen(0);
process.stdout.write(`port ${addr.port}\n`);
process.on('SIGTERM', () => {
  void engine.close().then(() => server.close()).then(() => process.exit(0));
});
