// A WeightSource over a Hugging Face model directory: config.json plus model.safetensors, or shards
// listed by model.safetensors.index.json. Headers are read up front (so a missing or truncated shard
// fails before any weight is loaded); tensors are read one at a time when asked for, in their stored
// dtype (bf16 stays bf16), so a 7B bf16 checkpoint needs its 14 GB once, not twice.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readHeader, readTensorBytes, type SafetensorsHeader } from '../io/safetensors.js';
import type { ModelConfig } from '../nn/config.js';
import { ModelLoadError } from './errors.js';
import { checkArchitecture } from './load.js';
import type { RawWeight, WeightDType, WeightSource } from './weight-source.js';

const DTYPES: Record<string, WeightDType> = { F32: 'f32', BF16: 'bf16', F16: 'f16' };

function readJson(path: string): unknown {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new ModelLoadError(path, `cannot read: ${(e as Error).message}`); }
  try { return JSON.parse(text); } catch (e) { throw new ModelLoadError(path, `invalid JSON: ${(e as Error).message}`); }
}

export class HFDirSource implements WeightSource {
  readonly config: ModelConfig;
  readonly origin: string;
  private readonly byName = new Map<string, SafetensorsHeader>();

  constructor(readonly dir: string) {
    this.origin = dir;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelLoadError(dir, 'not a model directory');
    const cfgPath = join(dir, 'config.json');
    if (!existsSync(cfgPath)) throw new ModelLoadError(dir, 'no config.json: not a Hugging Face model directory');
    const raw = readJson(cfgPath);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelLoadError(cfgPath, 'expected a JSON object');
    this.config = checkArchitecture(raw as Partial<ModelConfig> & Record<string, unknown>, cfgPath);
    const index = join(dir, 'model.safetensors.index.json'), single = join(dir, 'model.safetensors');
    if (existsSync(index)) {
      const j = readJson(index) as { weight_map?: Record<string, unknown> };
      if (!j || typeof j.weight_map !== 'object' || j.weight_map === null) throw new ModelLoadError(index, 'missing "weight_map"');
      const headers = new Map<string, SafetensorsHeader>();
      for (const [name, file] of Object.entries(j.weight_map)) {
        if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) throw new ModelLoadError(index, `"${name}" maps to ${JSON.stringify(file)}, not a file name`);
        if (!headers.has(file)) {
          const path = join(dir, file);
          if (!existsSync(path)) throw new ModelLoadError(index, `shard "${file}" (holding "${name}") is missing from ${dir}`);
          headers.set(file, readHeader(path));
        }
        const h = headers.get(file)!;
        if (!h.entries.has(name)) throw new ModelLoadError(h.path, `the index says "${name}" is in this shard, but it is not`);
        this.byName.set(name, h);
      }
    } else if (existsSync(single)) {
      const h = readHeader(single);
      for (const name of h.entries.keys()) this.byName.set(name, h);
    } else {
      throw new ModelLoadError(dir, 'no model.safetensors nor model.safetensors.index.json');
    }
  }

  names(): string[] { return [...this.byName.keys()]; }

  get(name: string): RawWeight {
    const h = this.byName.get(name);
    if (!h) throw new ModelLoadError(this.dir, `no tensor named "${name}"`);
    const e = h.entries.get(name)!;
    const dtype = DTYPES[e.dtype];
    if (!dtype) throw new ModelLoadError(h.path, `"${name}" is ${e.dtype}; weights must be F32, BF16 or F16`);
    const bytes = new Uint8Array(e.end - e.begin);
    readTensorBytes(h, name, bytes);
    return { dtype, shape: [...e.shape], bytes };
  }

  /** real token rows from tokenizer.json (max id + 1), when the directory has one */
  tokenizerVocabSize(): number | undefined {
    const path = join(this.dir, 'tokenizer.json');
    if (!existsSync(path)) return undefined;
    const j = readJson(path) as { model?: { vocab?: Record<string, number> }; added_tokens?: { id: number }[] };
    let max = -1;
    for (const id of Object.values(j?.model?.vocab ?? {})) if (typeof id === 'number' && id > max) max = id;
    for (const t of j?.added_tokens ?? []) if (typeof t?.id === 'number' && t.id > max) max = t.id;
    return max >= 0 ? max + 1 : undefined;
  }
}
