// dsllm's quantized dot kernels against llama.cpp's own: test/io/ggml-kernels-check.cc is compiled
// here with the addon's flags and run against the ggml CPU library that node-llama-cpp ships (the
// variant llama.cpp loads on an AVX-512 VNNI/BF16 machine), comparing the activation quantizer,
// the Q8_0 vec_dot and the repacked Q4_0 gemv bit for bit on random blocks. Skipped without g++,
// without node-llama-cpp's binaries or on another CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bins = join(root, 'node_modules', '@node-llama-cpp', 'linux-x64', 'bins', 'linux-x64');
const lib = join(bins, 'libggml-cpu-zen4.so');

function skipReason(): string | false {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'not linux-x64';
  if (!existsSync(lib)) return `no ${lib}`;
  const flags = readFileSync('/proc/cpuinfo', 'utf8');
  for (const f of ['avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16']) if (!flags.includes(f)) return `CPU lacks ${f}`;
  try { execFileSync('g++', ['--version'], { stdio: 'ignore' }); } catch { return 'no g++'; }
  return false;
}

test('quantized dots equal llama.cpp\'s CPU kernels bit for bit (activation quants, Q8_0 vec_dot, Q4_0 repacked gemv)', { skip: skipReason(), timeout: 120_000 }, () => {
  const exe = join(mkdtempSync(join(tmpdir(), 'dsllm-ggml-check-')), 'check');
  execFileSync('g++', ['-std=c++17', '-O3', '-march=native', '-ffp-contract=fast', '-w', join(root, 'test', 'io', 'ggml-kernels-check.cc'), '-o', exe, '-ldl']);
  const out = execFileSync(exe, [bins, lib], { encoding: 'utf8' }).trim();
  const m = /^quants (\d+) q8_0 (\d+)\/(\d+) q4_0 (\d+)\/(\d+)$/.exec(out);
  assert.ok(m, `unexpected output: ${out}`);
  assert.ok(Number(m[3]) >= 1000, 'enough dots compared');
  assert.deepEqual([m[1], m[2], m[4]].map(Number), [0, 0, 0], out);
});
