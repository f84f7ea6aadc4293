// Checkpoints that do not stall training. save() copies the weights, AdamW moments and trainer state
// into one buffer (a memcpy, milliseconds for small models) and hands it to a worker thread that
// writes the directory (temp dir, fsync'd files, rename, directory fsync, prune: checkpoint-dir.ts)
// while the next steps run. The atomic-write guarantee is the same as a blocking write: a step-N
// directory appears only complete, and a kill mid-write leaves the previous checkpoint the latest.
//
// train() is synchronous, so the main thread never runs its event loop while training: completion is
// signalled through a SharedArrayBuffer flag (Atomics.wait) and the reply read with
// receiveMessageOnPort. At most one write is in flight; a save() while one is pending waits for it.
// Falls back to blocking writes when the thread cannot start or the copy would not fit in memory.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { freemem } from 'node:os';
import { snapshotDirFiles, tensorBytes, type DirFile } from '../io/dir-files.js';
import { join } from 'node:path';
import { stepDir, writeCheckpointDir } from './checkpoint-dir.js';

export const FLAG_STARTING = 0, FLAG_DONE = 1, FLAG_BUSY = 2;

export interface CheckpointJob { root: string; step: number; keep: number; files: DirFile[]; buffer: ArrayBuffer }
export type CheckpointReply = { ok: true; dir: string; buffer: ArrayBuffer } | { ok: false; message: string; name: string; buffer: ArrayBuffer };

export class CheckpointWriteError extends Error {
  constructor(msg: string) { super(msg); this.name = 'CheckpointWriteError'; }
}

const STARTUP_WAIT_MS = 30_000;

export class CheckpointWriter {
  private worker: Worker | null = null;
  private results: MessagePort | null = null;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private pending: string | null = null;
  private spare: ArrayBuffer | undefined;

  private started = false;

  /**
   * background = false: every save writes before returning. snapshotBytes (snapshotSize of the
   * files): the thread allocates and touches the copy buffer while training starts, so the first
   * save does not pay for faulting in fresh memory (a large share of its cost).
   */
  constructor(background = true, snapshotBytes = 0) {
    if (!background) return;
    try {
      const { port1, port2 } = new MessageChannel();
      const prealloc = snapshotBytes <= freemem() * 0.5 ? snapshotBytes : 0;
      this.worker = new Worker(new URL('./checkpoint-thread.js', import.meta.url), { workerData: { flag: this.flag, results: port2, prealloc }, transferList: [port2] });
      this.worker.unref();
      port1.unref();
      this.results = port1;
    } catch {
      this.worker = null;
    }
  }

  /** whether saves overlap training (false before the first save only if the thread failed to start) */
  get background(): boolean { return this.worker !== null; }

  /**
   * Writes the checkpoint of `files` (read now; the caller may change the tensors afterwards) as
   * <root>/checkpoints/step-N. wait = true returns only when it is on disk. Returns its final path.
   * A failure of the previous background write is thrown here.
   */
  save(root: string, step: number, files: DirFile[], keep: number, wait: boolean): string {
    this.drain();
    const bytes = tensorBytes(files);
    if (!this.worker || !this.ready() || bytes > freemem() * 0.5) return writeCheckpointDir(root, step, files, keep);
    const snap = snapshotDirFiles(files, this.spare);
    this.spare = undefined;
    const job: CheckpointJob = { root, step, keep, files: snap.files, buffer: snap.buffer };
    Atomics.store(this.flag, 0, FLAG_BUSY);
    this.worker.postMessage(job, [snap.buffer]);
    this.pending = `step ${step} under ${root}`;
    if (wait) return this.drain()!;
    return writeTarget(root, step);
  }

  /** blocks until the write in flight (if any) is on disk; returns its directory; throws its error */
  drain(): string | null {
    if (this.pending === null) return null;
    const what = this.pending;
    // the thread answers every job, failures included (checkpoint-thread.ts catches all); only a thread
    // that died outright would leave this waiting, and it allocates nothing large (the buffer is ours)
    while (Atomics.load(this.flag, 0) === FLAG_BUSY) Atomics.wait(this.flag, 0, FLAG_BUSY, 1000);
    this.pending = null;
    const m = receiveMessageOnPort(this.results!);
    if (!m) throw new CheckpointWriteError(`checkpoint ${what}: the writer thread gave no reply`);
    const reply = m.message as CheckpointReply;
    this.spare = reply.buffer;
    if (!reply.ok) throw new CheckpointWriteError(`checkpoint ${what} failed: ${reply.message}`);
    return reply.dir;
  }

  /** waits for the write in flight (errors swallowed when `quiet`: another error is on its way) and stops the thread */
  close(quiet = false): void {
    try { this.drain(); } catch (e) { if (!quiet) throw e; } finally {
      void this.worker?.terminate();
      this.worker = null;
      this.results?.close();
      this.results = null;
    }
  }

  /** the thread signals once it has loaded; give up on it (blocking writes) if it never does */
  private ready(): boolean {
    if (this.started) return true;
    if (Atomics.load(this.flag, 0) === FLAG_STARTING) Atomics.wait(this.flag, 0, FLAG_STARTING, STARTUP_WAIT_MS);
    if (Atomics.load(this.flag, 0) !== FLAG_STARTING) {
      this.started = true;
      // the thread's first message: the pre-touched snapshot buffer (posted before it flagged ready)
      const m = receiveMessageOnPort(this.results!)?.message as { prealloc?: ArrayBuffer } | undefined;
      if (m?.prealloc && m.prealloc.byteLength > 0) this.spare = m.prealloc;
      return true;
    }
    void this.worker?.terminate();
    this.worker = null;
    return false;
  }
}

function writeTarget(root: string, step: number): string {
  return join(root, 'checkpoints', stepDir(step));
}
