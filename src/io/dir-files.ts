// A directory's files described as data (safetensors files as lists of tensors, text files as
// strings), written in the listed order. Separating the description from the writing lets a caller
// copy the tensor bytes into one buffer and write them later, e.g. on a background thread.
import { join } from 'node:path';
import { writeSafetensors, type TensorToWrite } from './safetensors.js';
import { writeFileAtomic } from './atomic.js';

export type DirFile =
  | { file: string; tensors: TensorToWrite[]; metadata: Record<string, string> }
  | { file: string; text: string };

/** writes each file atomically, in order (put the file that marks the directory complete last) */
export function writeDirFiles(dir: string, files: DirFile[]): void {
  for (const f of files) {
    if ('text' in f) writeFileAtomic(join(dir, f.file), f.text);
    else writeSafetensors(join(dir, f.file), f.tensors, f.metadata);
  }
}

/** total tensor bytes of a file list */
export function tensorBytes(files: DirFile[]): number {
  let n = 0;
  for (const f of files) if ('tensors' in f) for (const t of f.tensors) n += t.bytes.byteLength;
  return n;
}

/**
 * The same files with every tensor's bytes copied into one ArrayBuffer (reused when `into` is big
 * enough), so the originals can change while the copy is written. Copies are 8-byte aligned.
 */
export function snapshotDirFiles(files: DirFile[], into?: ArrayBuffer): { files: DirFile[]; buffer: ArrayBuffer } {
  const size = snapshotSize(files);
  const buffer = into && into.byteLength >= size ? into : new ArrayBuffer(size);
  let off = 0;
  const copy = files.map((f): DirFile => {
    if ('text' in f) return f;
    return {
      file: f.file, metadata: f.metadata,
      tensors: f.tensors.map((t) => {
        const bytes = new Uint8Array(buffer, off, t.bytes.byteLength);
        bytes.set(t.bytes);
        off += (t.bytes.byteLength + 7) & ~7;
        return { name: t.name, dtype: t.dtype, shape: [...t.shape], bytes };
      }),
    };
  });
  return { files: copy, buffer };
}

/** bytes of the buffer snapshotDirFiles needs for these files */
export function snapshotSize(files: DirFile[]): number {
  let size = 0;
  for (const f of files) if ('tensors' in f) for (const t of f.tensors) size += (t.bytes.byteLength + 7) & ~7;
  return size;
}
