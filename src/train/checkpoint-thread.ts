// The background checkpoint writer's thread (see checkpoint-writer.ts): receives a snapshot (files
// whose tensor bytes view one transferred buffer), writes the checkpoint directory, replies on the
// result port with the buffer handed back for reuse, then flips the shared flag so the trainer,
// which may be blocked in Atomics.wait, sees the write done.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { writeCheckpointDir } from './checkpoint-dir.js';
import type { CheckpointJob, CheckpointReply } from './checkpoint-writer.js';
import { FLAG_DONE } from './checkpoint-writer.js';

const { flag, results, prealloc } = workerData as { flag: Int32Array; results: MessagePort; prealloc: number };

function finish(reply: CheckpointReply, buffer: ArrayBuffer): void {
  results.postMessage(reply, [buffer]);
  Atomics.store(flag, 0, FLAG_DONE);
  Atomics.notify(flag, 0);
}

parentPort!.on('message', (job: CheckpointJob) => {
  try {
    finish({ ok: true, dir: writeCheckpointDir(job.root, job.step, job.files, job.keep), buffer: job.buffer }, job.buffer);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    finish({ ok: false, message: err.message ?? String(e), name: err.name, buffer: job.buffer }, job.buffer);
  }
});
// the snapshot buffer, written once so its pages are faulted in here rather than in the trainer's
// first save; then ready (the first save waits for this, and takes the buffer, before handing over work)
const buffer = new ArrayBuffer(prealloc);
new Uint8Array(buffer).fill(1);
results.postMessage({ prealloc: buffer }, [buffer]);
Atomics.store(flag, 0, FLAG_DONE);
Atomics.notify(flag, 0);
