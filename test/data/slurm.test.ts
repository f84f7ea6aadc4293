// The Slurm executor against a real single-node Slurm that this test starts (../shared/tools/
// slurm-local.sh: munged + slurmctld + slurmd on private ports). Jobs are cancelled mid-way, the
// pipeline is relaunched, and the output must equal an uninterrupted run. Skips, saying why, where
// Slurm is not installed or cannot start (see the report for what .ci/run installs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { activeJobs, runSlurm, submitPipeline } from '../../src/data/executors/slurm.js';
import { loadPipeline, stagesOf } from '../../src/data/pipeline.js';
import { missingTasks } from '../../src/data/tasks.js';
import { dataFiles, pipelineYaml, referenceRun, writeCollection } from './pipeline-fixture.js';
import { sharedDir, tmp } from './helpers.js';

const shared = sharedDir();
const script = shared ? join(shared, 'tools', 'slurm-local.sh') : '';
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function whySkip(): string | false {
  if (!shared || !existsSync(script)) return 'shared/tools/slurm-local.sh not found beside the repository';
  if (process.getuid?.() !== 0) return 'not root: the local Slurm runs as SlurmUser=root with a private munged';
  const missing = ['slurmctld', 'slurmd', 'sbatch', 'munged'].filter((c) => !has(c));
  if (missing.length) return `Slurm not installed (${missing.join(', ')} missing): apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge libpmix-dev`;
  return false;
}

const skip = whySkip();
const SLURM_DIR = '/tmp/dsllm-data-slurm-test';
const env = { ...process.env, DSLLM_SLURM_DIR: SLURM_DIR, DSLLM_SLURM_CTLD_PORT: '6917', DSLLM_SLURMD_PORT: '6918', SLURM_CONF: `${SLURM_DIR}/etc/slurm.conf` };

test('slurm executor: job arrays with dependencies, cancel mid-way, relaunch, identical output', { skip, timeout: 240_000 }, async (t) => {
  const up = spawnSync('bash', [script, 'start'], { env, encoding: 'utf8', timeout: 120_000 });
  if (up.status !== 0) { t.skip(`local Slurm did not start: ${(up.stderr || '').trim().split('\n').slice(-3).join(' | ')}`); return; }
  try {
    const root = tmp('slurm');
    writeCollection(root, shared!);
    const ref = dataFiles(await referenceRun(root));
    const dir = join(root, 'slurm');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'p.yaml'), pipelineYaml(join(root, 'in'), 'executor: { type: slurm, memPerCpu: 500M }'));
    const p = loadPipeline(join(dir, 'p.yaml'));
    const opts = { cpusPerTask: 1, memPerCpu: '500M', time: '0:10:00', sbatchArgs: [], pollMs: 200 };
    // first launch, slowed down, then every job cancelled once the read stage is done
    // maxArraySize 1: every task is its own array job (base + index 0), and each stage depends on all of
    // the previous stage's jobs — the path a pipeline with more tasks than MaxArraySize takes
    const jobs = submitPipeline(p, { ...opts, maxArraySize: 1, env: { ...env, DSLLM_DATA_TASK_DELAY_MS: '800' } });
    assert.deepEqual(jobs.map((j) => `${j.stage}:${j.tasks}`), stagesOf(p).flatMap((s) => Array.from({ length: s.tasks }, (_, t) => `${s.name}:${t}`)));
    const t0 = Date.now();
    while (missingTasks(p, 'read').length && Date.now() - t0 < 90_000) await new Promise((r) => setTimeout(r, 200));
    spawnSync('scancel', jobs.map((j) => j.jobId), { env });
    while (activeJobs(jobs.map((j) => j.jobId), env).length && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 200));
    const doneBefore = stagesOf(p).map((s) => s.tasks - missingTasks(p, s.name).length);
    assert.equal(missingTasks(p, 'read').length, 0, 'read finished before the cancel');
    assert.ok(missingTasks(p, 'report').length === 1, `cancelled before the end (done per stage: ${doneBefore})`);
    // relaunch: only missing tasks are submitted
    const log: string[] = [];
    const again = await runSlurm(p, { ...opts, env }, (s) => log.push(s));
    assert.ok(!again.some((j) => j.stage === 'read'), `read was not resubmitted (${log.join('')})`);
    const got = dataFiles(p.workDir);
    assert.deepEqual([...got.keys()].sort(), [...ref.keys()].sort());
    for (const [k, v] of ref) assert.ok(v.equals(got.get(k)!), `${k} differs from the uninterrupted run`);
  } finally {
    spawnSync('bash', [script, 'stop'], { env, timeout: 60_000 });
  }
});
