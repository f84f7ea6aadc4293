// Writing a checkpoint directory from its described files: a hidden temp directory, each file written
// atomically, then one rename to step-N and a directory fsync, then pruning. Only file work (no model,
// no native code), so the background writer thread imports just this module.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirFiles, type DirFile } from '../io/dir-files.js';
import { fsyncDir } from '../io/atomic.js';

export const stepDir = (step: number) => `step-${String(step).padStart(8, '0')}`;

/**
 * Writes a checkpoint's files into a hidden temp directory, then renames it to step-N and prunes
 * old ones. Plain file work (no model), so it also runs on the background writer thread.
 */
export function writeCheckpointDir(root: string, step: number, files: DirFile[], keep = 3): string {
  const dir = join(root, 'checkpoints');
  mkdirSync(dir, { recursive: true });
  const final = join(dir, stepDir(step));
  const tmp = join(dir, `.tmp-${stepDir(step)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeDirFiles(tmp, files);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncDir(dir);
  prune(dir, keep);
  return final;
}

function prune(dir: string, keep: number): void {
  const all = completeCheckpoints(dir);
  for (const d of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(dir, d), { recursive: true, force: true });
  for (const d of readdirSync(dir)) if (d.startsWith('.tmp-')) rmSync(join(dir, d), { recursive: true, force: true });
}

export function completeCheckpoints(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((d) => /^step-\d{8}$/.test(d) && existsSync(join(dir, d, 'trainer_state.json'))).sort();
}

