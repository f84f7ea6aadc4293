// The llama.cpp peer of the infer suite (bench/infer.ts loads this module when present): the bench's
// model exported to GGUF in the same format (io/gguf-export.ts, ggml-exact quantization), run by
// node-llama-cpp one timed repetition at a time, so that the suite alternates it with its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferFormat, InferPeer, InferTest, PeerRun } from './infer.js';
import type { DeepSeekLM } from '../src/nn/deepseek.js';
import { exportGguf } from '../src/io/gguf-export.js';
import { llamaCppSpeedSession, loadLlamaCpp } from './llama-cpp.js';

export const inferPeer: InferPeer = {
  name: 'llama.cpp',
  async open(model: DeepSeekLM, fmt: InferFormat): Promise<PeerRun | { why: string }> {
    const peer = await loadLlamaCpp();
    if ('error' in peer) return { why: peer.error };
    const dir = mkdtempSync(join(tmpdir(), 'dsllm-infer-peer-'));
    try {
      const path = join(dir, `model-${fmt}.gguf`);
      exportGguf(model, path, { type: fmt });
      const s = await llamaCppSpeedSession(path, { pp: 256, tg: 128 });
      return {
        rep: (test: InferTest, threads: number) => (test === 'pp256' ? s.pp(threads) : s.tg(threads)),
        close: async () => { await s.close(); rmSync(dir, { recursive: true, force: true }); },
      };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      return { why: `llama.cpp failed: ${(err as Error).message.split('\n')[0]}` };
    }
  },
};
