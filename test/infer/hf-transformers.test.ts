// Correctness of the HF format against an independent implementation: Hugging Face transformers
// (LlamaForCausalLM, DeepSeek LLM's HF architecture, float32, eager attention) run through
// test/peers/hf_llama_logits.py. Both directions:
//  - directories dsllm writes (a dsllm-trained model; a random 7B-shaped GQA model, sharded and bf16)
//    load in transformers and give our logits and greedy continuations;
//  - directories transformers writes (save_pretrained of a random GQA LlamaForCausalLM: sharded f32,
//    and bf16 with tied embeddings) load in dsllm and give transformers' logits and continuations.
// "Ours" is checked twice: the inference model (KV cache: batched prefill, then a token at a time) and
// the training model DeepSeekLM (one uncached forward of the whole sequence). Prompts are token ids, so
// no tokenizer is involved. The peer Python is DSLLM_HF_PYTHON, else .venv-peer (scripts/setup-hf-peer.sh),
// else python3 on PATH; without torch + transformers the tests skip with a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../../src/backends/select.js';
import { DeepSeekLM } from '../../src/nn/deepseek.js';
import { validateConfig } from '../../src/nn/config.js';
import { loadModel, saveModel, type SaveOptions } from '../../src/io/hf-dir.js';
import { InferenceModel } from '../../src/infer/model.js';
import { train } from '../../src/train/trainer.js';
import { fullLogits } from './helpers.js';
import { SKIP as NO_DATA, data } from '../tokenizer/data.js';
import { trainTinyShakespeare } from '../tiny-trained.js';

await selectBackend('native');

/** the bar: raw f32 logits within this of transformers' at every position and vocabulary entry */
const TOL = 1e-4;
/** the inference model's bf16 prefill GEMM rounds activations to bf16 (8 significant bits) by design */
const BF16_PREFILL_TOL = 5e-2;

// dist/test/infer/<this>.js → the repository root (the Python script is not compiled)
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCRIPT = join(ROOT, 'test', 'peers', 'hf_llama_logits.py');
const PY_ENV = {
  ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', HF_HUB_DISABLE_PROGRESS_BARS: '1',
  TRANSFORMERS_VERBOSITY: 'error', TOKENIZERS_PARALLELISM: 'false', OMP_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore',
};

/** the first candidate that imports torch, transformers and safetensors, with their versions; else why not */
function findPeer(): { python: string; versions: string } | { skip: string } {
  const fromEnv = process.env.DSLLM_HF_PYTHON;
  const candidates = fromEnv ? [fromEnv] : [join(ROOT, '.venv-peer', 'bin', 'python'), 'python3'];
  const tried: string[] = [];
  for (const py of candidates) {
    if (py.includes('/') && !existsSync(py)) { tried.push(`${py} (absent)`); continue; }
    const r = spawnSync(py, ['-c', 'import torch, transformers, safetensors; print("torch", torch.__version__, "transformers", transformers.__version__)'],
      { encoding: 'utf8', env: PY_ENV, timeout: 180_000 });
    if (r.status === 0) return { python: py, versions: r.stdout.trim() };
    tried.push(`${py} (${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)})`);
  }
  return { skip: `skipped: no Python with torch + transformers + safetensors (tried ${tried.join('; ')}); run scripts/setup-hf-peer.sh or set DSLLM_HF_PYTHON` };
}

const peer = existsSync(SCRIPT) ? findPeer() : { skip: `skipped: ${SCRIPT} missing` };
const SKIP = 'skip' in peer ? peer.skip : false;
if ('versions' in peer) console.log(`reference: ${peer.python}: ${peer.versions}`);

const tmp = mkdtempSync(join(tmpdir(), 'dsllm-hf-transformers-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** runs the peer script; its last stdout line is JSON */
function peerCall(args: string[]): Record<string, unknown> {
  const py = (peer as { python: string }).python;
  const r = spawnSync(py, [SCRIPT, ...args], { encoding: 'utf8', env: PY_ENV, timeout: 300_000, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${py} ${SCRIPT} ${args[0]} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

interface TheirRun { generated: number[]; logits: Float32Array[] }

/** transformers: greedy continuation (KV cache) and the uncached logits of prompt + generated[:-1] */
function theirs(dir: string, prompt: number[], maxNew: number): TheirRun {
  const j = peerCall(['run', '--model', dir, '--ids', prompt.join(' '), '--new', String(maxNew)]) as { generated: number[]; logits: number[][] };
  return { generated: j.generated, logits: j.logits.map((r) => Float32Array.from(r)) };
}

const argmax = (r: Float32Array) => { let b = 0; for (let v = 1; v < r.length; v++) if (r[v] > r[b]) b = v; return b; };

interface InferenceRun { generated: number[]; rows: Float32Array[]; formats: string }

/**
 * dsllm's inference model on the directory: greedy continuation with its KV cache, and every logit row.
 * The prompt goes in as one batched prefill step, or a token at a time (`tokenByToken`: every matmul
 * then takes the single-row path, whose activations stay f32 against 16-bit weights). With `force`, those
 * tokens are fed after the prompt instead of the model's own choices (teacher forcing).
 */
function oursInference(dir: string, prompt: number[], maxNew: number, opts: { weights?: 'f32'; tokenByToken?: boolean; force?: number[] } = {}): InferenceRun {
  const m = InferenceModel.fromHFDir(dir, opts.weights ? { weights: opts.weights } : {});
  try {
    const V = m.config.vocab_size;
    const seq = m.newSequence(prompt.length + maxNew);
    const rows: Float32Array[] = [];
    for (const part of opts.tokenByToken ? prompt.map((t) => [t]) : [prompt]) {
      const out = m.step([{ seq, tokens: Int32Array.from(part), allLogits: true }]);
      for (let t = 0; t < part.length; t++) rows.push(out.slice(t * V, (t + 1) * V));
    }
    const generated: number[] = [];
    for (;;) {
      generated.push(argmax(rows[rows.length - 1]));
      if (generated.length === maxNew) break;
      const next = opts.force ? opts.force[generated.length - 1] : generated[generated.length - 1];
      rows.push(m.step([{ seq, tokens: Int32Array.of(next) }]).slice());
    }
    m.freeSequence(seq);
    return { generated, rows, formats: Object.values(m.formats()).join('/') };
  } finally {
    m.dispose();
  }
}

/** dsllm's training model loaded from the directory (src/io/hf-dir.ts): one uncached forward */
function oursTraining(dir: string, ids: number[]): Float32Array[] {
  const model = loadModel(dir);
  const V = model.config.vocab_size, all = fullLogits(model, ids);
  return Array.from({ length: ids.length }, (_, t) => all.slice(t * V, (t + 1) * V));
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[], what: string): number {
  assert.equal(a.length, b.length, `${what}: rows`);
  let m = 0;
  for (let t = 0; t < a.length; t++) {
    assert.equal(a[t].length, b[t].length, `${what}: vocabulary`);
    for (let v = 0; v < a[t].length; v++) m = Math.max(m, Math.abs(a[t][v] - b[t][v]));
  }
  return m;
}

const maxAbs = (rows: Float32Array[]) => rows.reduce((m, r) => r.reduce((x, v) => Math.max(x, Math.abs(v)), m), 0);

/**
 * The whole check on one directory: transformers and dsllm continue `prompt` identically for maxNew
 * greedy tokens, and every logit of prompt + continuation agrees within TOL. dsllm runs as the
 * inference model and as the training model (DeepSeekLM). A bf16 directory is run as transformers runs
 * it here (weights widened to f32 at load; DeepSeekLM does the same) within TOL; the inference model's
 * own bf16 storage is checked within TOL token by token; its batched prefill rounds activations to bf16
 * for the GEMM (src/core/backend.ts, matmulQuant 'gemm'), so there the logits along transformers'
 * continuation (teacher-forced: a near-tie may flip a greedy choice) are checked within BF16_PREFILL_TOL.
 */
function compare(dir: string, prompt: number[], maxNew: number, what: string, opts: { bf16?: boolean } = {}): void {
  const ref = theirs(dir, prompt, maxNew);
  assert.equal(ref.generated.length, maxNew);
  const seq = [...prompt, ...ref.generated];
  const report: string[] = [];
  const check = (name: string, run: InferenceRun, tol: number) => {
    assert.deepEqual(run.generated, ref.generated, `${what}: ${name} greedy continuation of ${maxNew} tokens`);
    const d = maxAbsDiff(run.rows, ref.logits, `${what}: ${name}`);
    report.push(`${name} ${d.toExponential(2)}`);
    assert.ok(d <= tol, `${what}: ${name} logits max abs diff ${d} > ${tol}`);
  };
  if (!opts.bf16) check('InferenceModel', oursInference(dir, prompt, maxNew), TOL);
  else {
    check('InferenceModel (widened to f32)', oursInference(dir, prompt, maxNew, { weights: 'f32' }), TOL);
    const own = oursInference(dir, prompt, maxNew, { tokenByToken: true });
    assert.equal(own.formats, 'bf16/bf16/bf16');
    check('InferenceModel (bf16 weights, token by token)', own, TOL);
    const forced = oursInference(dir, prompt, maxNew, { force: ref.generated });
    const agree = forced.rows.slice(prompt.length - 1).filter((r, i) => argmax(r) === ref.generated[i]).length;
    const d = maxAbsDiff(forced.rows, ref.logits, `${what}: bf16 prefill`);
    report.push(`InferenceModel (bf16 weights, bf16-rounded prefill activations, teacher-forced) ${d.toExponential(2)} with ${agree}/${maxNew} greedy choices equal`);
    assert.ok(d <= BF16_PREFILL_TOL, `${what}: bf16 prefill logits max abs diff ${d} > ${BF16_PREFILL_TOL}`);
  }
  const full = oursTraining(dir, seq.slice(0, -1));
  // the uncached forward is greedy too: each row's argmax is the next token of the continuation
  for (let t = prompt.length - 1; t < full.length; t++) assert.equal(argmax(full[t]), seq[t + 1], `${what}: DeepSeekLM argmax at position ${t}`);
  const dFull = maxAbsDiff(full, ref.logits, `${what}: DeepSeekLM`);
  report.push(`DeepSeekLM ${dFull.toExponential(2)}`);
  console.log(`${what}: ${maxNew} greedy tokens identical; max |Δ logit| vs transformers over ${ref.logits.length} positions × ${ref.logits[0].length} ` +
    `(logits up to ${maxAbs(ref.logits).toFixed(2)}): ${report.join(', ')}`);
  assert.ok(dFull <= TOL, `${what}: DeepSeekLM logits max abs diff ${dFull} > ${TOL}`);
}

/** saves with dsllm's writer into a fresh directory */
function save(model: DeepSeekLM, name: string, opts: SaveOptions = {}): string {
  const dir = join(tmp, name);
  saveModel(model, dir, opts);
  return dir;
}

test('a dsllm-trained model saved as an HF directory: transformers continues it identically, logits within 1e-4', { skip: SKIP || NO_DATA, timeout: 600_000 }, () => {
  const run = trainTinyShakespeare(tmp, data('corpus', 'en', 'tinyshakespeare.txt'));
  // the trainer's own checkpoint directory, as a user would hand it to transformers
  const prompt = Array.from(Buffer.from('ROMEO:\nWhat light through yonder'));
  compare(run.checkpoint, prompt, 80, `trained (loss ${run.finalLoss.toFixed(2)})`);
});

// 7B-shaped (SwiGLU width 2.6875·d rounded to the block, GQA 8:2, head 32, ε 1e-6), random weights
const gqa = validateConfig({
  vocab_size: 512, hidden_size: 256, intermediate_size: 704, num_hidden_layers: 4, num_attention_heads: 8,
  num_key_value_heads: 2, max_position_embeddings: 512, rms_norm_eps: 1e-6, rope_theta: 10000,
});
const PROMPT = [100, 7, 311, 42, 5, 260, 77, 13, 400, 1];

test('a random 7B-shaped GQA model written by dsllm (sharded f32, and bf16): transformers agrees on 64 greedy tokens and logits', { skip: SKIP, timeout: 600_000 }, () => {
  const model = new DeepSeekLM(gqa, { seed: 42, initStd: 0.05 });
  const sharded = save(model, 'gqa-sharded', { maxShardBytes: 1 << 20 });
  assert.ok(existsSync(join(sharded, 'model.safetensors.index.json')), 'sharded with an index');
  compare(sharded, PROMPT, 64, `dsllm GQA f32, ${readdirSync(sharded).filter((f) => f.endsWith('.safetensors')).length} shards`);
  compare(save(model, 'gqa-bf16', { dtype: 'bf16' }), PROMPT, 64, 'dsllm GQA bf16', { bf16: true });
});

/** a LlamaForCausalLM that transformers initializes and saves itself */
function transformersWritten(name: string, config: Record<string, unknown>, args: string[]): { dir: string; files: string[]; written: Record<string, unknown> } {
  const dir = join(tmp, name);
  const j = peerCall(['make', '--out', dir, '--config', JSON.stringify(config), ...args]) as { files: string[]; config: Record<string, unknown> };
  return { dir, files: j.files, written: j.config };
}

test('HF directories written by transformers (save_pretrained: sharded f32 GQA; bf16 with tied embeddings) load in dsllm and agree', { skip: SKIP, timeout: 600_000 }, () => {
  // a non-default rope_theta and ε, so a loader that ignored where this transformers puts them would fail
  const a = transformersWritten('tf-gqa-sharded', {
    vocab_size: 384, hidden_size: 128, intermediate_size: 352, num_hidden_layers: 3, num_attention_heads: 8,
    num_key_value_heads: 2, max_position_embeddings: 256, rms_norm_eps: 1e-5, rope_theta: 50000, initializer_range: 0.08,
  }, ['--seed', '3', '--max-shard-size', '200KB']);
  assert.ok(a.files.includes('model.safetensors.index.json') && a.files.filter((f) => f.endsWith('.safetensors')).length > 2, `sharded: ${a.files}`);
  compare(a.dir, [1, 17, 250, 3, 99, 383, 0, 64], 64, `transformers GQA f32, ${a.files.filter((f) => f.endsWith('.safetensors')).length} shards`);

  const b = transformersWritten('tf-tied-bf16', {
    vocab_size: 256, hidden_size: 96, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 6,
    num_key_value_heads: 3, max_position_embeddings: 128, rms_norm_eps: 1e-6, rope_theta: 10000, initializer_range: 0.1,
    tie_word_embeddings: true,
  }, ['--seed', '4', '--dtype', 'bfloat16']);
  assert.deepEqual(b.files.filter((f) => f.endsWith('.safetensors')), ['model.safetensors']);
  compare(b.dir, [5, 200, 31, 7, 7, 128], 64, 'transformers tied bf16', { bf16: true });
});
