// Checkpoints: one directory per step, <out>/checkpoints/step-00001234/, holding an HF model dir
// (config.json + model.safetensors, f32 master weights, sharded above a size), the AdamW moments
// (optimizer.safetensors) and trainer_state.json (step, tokens, RNG state, schedule, options).
// Written into a hidden temp directory and renamed into place: a directory named step-N is always
// complete, and a kill during a write leaves the previous checkpoint as the latest usable one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelDirFiles, openWeights } from '../io/hf-dir.js';
import { readHeader, readTensorBytes, type TensorToWrite } from '../io/safetensors.js';
import type { DirFile } from '../io/dir-files.js';
import { completeCheckpoints, writeCheckpointDir } from './checkpoint-dir.js';
import type { DeepSeekLM } from '../nn/deepseek.js';
import type { AdamW } from '../optim/adamw.js';

export interface TrainerState {
  step: number;
  tokens: number;
  /** the data source's state: the window sampler's RNG state, or the shard loader's cursor */
  data: unknown;
  /** older checkpoints: the sampler's RNG state */
  rng?: number[];
  /** anything the trainer needs to continue identically (schedule, batch shape, seed, data files) */
  run: Record<string, unknown>;
  time_s: number;
}

const bytesOf = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

/** the files of a checkpoint directory, trainer_state.json last; tensor bytes are views of the live state */
export function checkpointFiles(model: DeepSeekLM, opt: AdamW, state: TrainerState): DirFile[] {
  const moments: TensorToWrite[] = [];
  for (const s of opt.state()) {
    moments.push({ name: `${s.name}.exp_avg`, dtype: 'f32', shape: s.m.shape, bytes: bytesOf(s.m.f32) });
    moments.push({ name: `${s.name}.exp_avg_sq`, dtype: 'f32', shape: s.v.shape, bytes: bytesOf(s.v.f32) });
  }
  return [
    ...modelDirFiles(model),
    { file: 'optimizer.safetensors', tensors: moments, metadata: { step: String(opt.step) } },
    { file: 'trainer_state.json', text: JSON.stringify({ ...state, optimizer_step: opt.step }, null, 2) + '\n' },
  ];
}

/** writes a checkpoint now (blocking); the trainer uses CheckpointWriter to overlap it with training */
export function saveCheckpoint(root: string, model: DeepSeekLM, opt: AdamW, state: TrainerState, keep = 3): string {
  return writeCheckpointDir(root, state.step, checkpointFiles(model, opt, state), keep);
}

/** the newest complete checkpoint under a run directory (or the checkpoint directory itself) */
export function latestCheckpoint(path: string): string | null {
  if (existsSync(join(path, 'trainer_state.json'))) return path;
  const all = completeCheckpoints(join(path, 'checkpoints'));
  return all.length ? join(path, 'checkpoints', all[all.length - 1]) : null;
}

export function readTrainerState(ckpt: string): TrainerState & { optimizer_step: number } {
  return JSON.parse(readFileSync(join(ckpt, 'trainer_state.json'), 'utf8'));
}

/** loads weights and moments into an existing model/optimizer of the same shapes */
export function restoreCheckpoint(ckpt: string, model: DeepSeekLM, opt: AdamW): TrainerState {
  const weights = openWeights(ckpt);
  for (const [name, p] of model.namedParameters()) {
    const h = weights.get(name);
    if (!h) throw new Error(`${ckpt}: checkpoint lacks weight "${name}"`);
    readTensorBytes(h, name, bytesOf(p.f32));
  }
  const oh = readHeader(join(ckpt, 'optimizer.safetensors'));
  for (const s of opt.state()) {
    readTensorBytes(oh, `${s.name}.exp_avg`, bytesOf(s.m.f32));
    readTensorBytes(oh, `${s.name}.exp_avg_sq`, bytesOf(s.v.f32));
  }
  const st = readTrainerState(ckpt);
  opt.step = st.optimizer_step;
  return st;
}
