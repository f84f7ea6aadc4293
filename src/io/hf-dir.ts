// Hugging Face model directories: config.json + model.safetensors, or shards
// model-00001-of-0000N.safetensors with model.safetensors.index.json above a size limit (as
// transformers' save_pretrained). Weights keep HF names, so the directory loads in transformers and
// a DeepSeek/LLaMA checkpoint loads here without conversion.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHeader, readTensorBytes, SafetensorsError, type TensorToWrite, type SafetensorsHeader } from './safetensors.js';
import { writeDirFiles, type DirFile } from './dir-files.js';
import { DeepSeekLM } from '../nn/deepseek.js';
import { validateConfig, type ModelConfig } from '../nn/config.js';
import { Tensor } from '../core/tensor.js';
import { kernels } from '../core/runtime.js';
import type { DType } from '../core/dtype.js';

export interface SaveOptions {
  /** storage dtype of the weights (master weights stay f32 in memory); default f32 */
  dtype?: 'f32' | 'bf16';
  /** shard above this many bytes (default 5 GB as transformers) */
  maxShardBytes?: number;
}

function weightBytes(t: Tensor, dtype: 'f32' | 'bf16'): { dtype: DType; bytes: Uint8Array } {
  if (dtype === 'f32') return { dtype: 'f32', bytes: new Uint8Array(t.f32.buffer, t.f32.byteOffset, t.f32.byteLength) };
  const u = new Uint16Array(t.numel);
  kernels().f32ToBf16(u, t.f32, t.numel);
  return { dtype: 'bf16', bytes: new Uint8Array(u.buffer) };
}

export function saveModel(model: DeepSeekLM, dir: string, opts: SaveOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  writeDirFiles(dir, modelDirFiles(model, opts));
}

/**
 * The files of a model directory, config.json last (a directory with a config.json is complete).
 * With f32 storage the tensors' bytes are views of the live weights, not copies.
 */
export function modelDirFiles(model: DeepSeekLM, opts: SaveOptions = {}): DirFile[] {
  const dtype = opts.dtype ?? 'f32';
  const maxShard = opts.maxShardBytes ?? 5e9;
  const { dsllm: _local, ...hf } = model.config;
  void _local;
  const config = { architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu', ...hf, torch_dtype: dtype === 'bf16' ? 'bfloat16' : 'float32' };
  // one tensor at a time into shards of at most maxShard bytes
  const shards: TensorToWrite[][] = [[]];
  let cur = 0;
  for (const [name, p] of model.namedParameters()) {
    const w = weightBytes(p, dtype);
    if (cur > 0 && cur + w.bytes.byteLength > maxShard) { shards.push([]); cur = 0; }
    shards[shards.length - 1].push({ name, dtype: w.dtype, shape: p.shape, bytes: w.bytes });
    cur += w.bytes.byteLength;
  }
  const metadata = { format: 'pt' };
  const files: DirFile[] = [];
  if (shards.length === 1) {
    files.push({ file: 'model.safetensors', tensors: shards[0], metadata });
  } else {
    const n = shards.length, pad = (i: number) => String(i).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    let total = 0;
    shards.forEach((s, i) => {
      const file = `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
      files.push({ file, tensors: s, metadata });
      for (const t of s) { weightMap[t.name] = file; total += t.bytes.byteLength; }
    });
    files.push({ file: 'model.safetensors.index.json', text: JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n' });
  }
  files.push({ file: 'config.json', text: JSON.stringify(config, null, 2) + '\n' });
  return files;
}

/** every weight's file header, from the index when sharded */
export function openWeights(dir: string): Map<string, SafetensorsHeader> {
  const single = join(dir, 'model.safetensors'), index = join(dir, 'model.safetensors.index.json');
  const byName = new Map<string, SafetensorsHeader>();
  if (existsSync(index)) {
    let j: { weight_map?: Record<string, string> };
    try { j = JSON.parse(readFileSync(index, 'utf8')); } catch (e) { throw new SafetensorsError(index, `invalid JSON: ${(e as Error).message}`); }
    if (!j.weight_map || typeof j.weight_map !== 'object') throw new SafetensorsError(index, 'missing "weight_map"');
    const headers = new Map<string, SafetensorsHeader>();
    for (const [name, file] of Object.entries(j.weight_map)) {
      if (!headers.has(file)) headers.set(file, readHeader(join(dir, file)));
      const h = headers.get(file)!;
      if (!h.entries.has(name)) throw new SafetensorsError(h.path, `index says "${name}" is here, but it is not`);
      byName.set(name, h);
    }
  } else if (existsSync(single)) {
    const h = readHeader(single);
    for (const name of h.entries.keys()) byName.set(name, h);
  } else {
    throw new SafetensorsError(dir, 'no model.safetensors or model.safetensors.index.json');
  }
  return byName;
}

/** Loads an HF directory into a DeepSeekLM with f32 master weights (bf16/f16 files are widened). */
export function loadModel(dir: string): DeepSeekLM {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new SafetensorsError(dir, 'no config.json');
  let raw: Partial<ModelConfig>;
  try { raw = JSON.parse(readFileSync(cfgPath, 'utf8')); } catch (e) { throw new SafetensorsError(cfgPath, `invalid JSON: ${(e as Error).message}`); }
  const config = validateConfig(raw, cfgPath);
  const weights = openWeights(dir);
  const model = new DeepSeekLM(config, { seed: 0 });
  const k = kernels();
  for (const [name, p] of model.namedParameters()) {
    const h = weights.get(name);
    if (!h) throw new SafetensorsError(dir, `missing weight "${name}"`);
    const e = h.entries.get(name)!;
    if (e.shape.join() !== p.shape.join()) throw new SafetensorsError(h.path, `"${name}" has shape [${e.shape}], the config needs [${p.shape}]`);
    if (e.dtype === 'F32') readTensorBytes(h, name, new Uint8Array(p.f32.buffer, p.f32.byteOffset, p.f32.byteLength));
    else if (e.dtype === 'BF16' || e.dtype === 'F16') {
      const u = new Uint16Array(p.numel);
      readTensorBytes(h, name, new Uint8Array(u.buffer));
      if (e.dtype === 'BF16') k.bf16ToF32(p.f32, u, p.numel); else k.f16ToF32(p.f32, u, p.numel);
    } else throw new SafetensorsError(h.path, `"${name}" has dtype ${e.dtype}; weights must be F32, BF16 or F16`);
  }
  return model;
}
