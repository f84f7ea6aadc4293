// Child-process entry of a sweep run: `node worker.js <runDir>` reads <runDir>/job.json and the
// data path from argv, trains, and writes <runDir>/result.json (see run.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backends/select.js';
import { runJob } from './run.js';
import type { RunJob } from './spec.js';

const [runDir, dataPath] = process.argv.slice(2);
await selectBackend();
const job = JSON.parse(readFileSync(join(runDir, 'job.json'), 'utf8')) as RunJob;
const r = runJob(job, runDir, dataPath);
process.stdout.write(JSON.stringify({ id: r.id, status: r.status, val_bpb: r.val_bpb }) + '\n');
