import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backends/select.js';
import { Tensor } from '../../src/core/tensor.js';
import { scope, keep } from '../../src/core/scope.js';
import { addon } from '../../src/backends/native/addon.js';
import { settleNativeMemory } from '../util.js';

await selectBackend('native');

const iota = (n: number) => Array.from({ length: n }, (_, i) => i);

test('reshape, transpose and slice are views that share storage', () => {
  const t = Tensor.from(iota(24), [2, 3, 4]);
  const r = t.reshape([6, -1]);
  assert.deepEqual(r.shape, [6, 4]);
  assert.equal(r.storage, t.storage);
  const tr = t.transpose(1, 2);
  assert.deepEqual(tr.shape, [2, 4, 3]);
  assert.equal(tr.storage, t.storage);
  assert.equal(tr.isContiguous(), false);
  // element [b,i,j] of the transpose is t[b,j,i]
  assert.deepEqual(tr.toArray().slice(0, 6), [0, 4, 8, 1, 5, 9]);
  const s = t.slice(1, 1, 3);
  assert.deepEqual(s.shape, [2, 2, 4]);
  assert.deepEqual(s.toArray(), [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23]);
  // a view writes through to its base
  const row = t.slice(0, 1, 2).reshape([12]);
  row.f32[0] = 100;
  assert.equal(t.f32[12], 100);
  for (const x of [t, r, tr, s, row]) x.dispose();
});

test('contiguous() of a transposed view equals an explicit permutation', () => {
  const [B, T, H, D] = [2, 3, 4, 5];
  const t = Tensor.from(iota(B * T * H * D), [B, T, H, D]);
  const c = t.transpose(1, 2).contiguous(); // [B,H,T,D]
  const expect: number[] = [];
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let s = 0; s < T; s++) for (let d = 0; d < D; d++) expect.push(((b * T + s) * H + h) * D + d);
  assert.deepEqual(Array.from(c.f32), expect);
  t.dispose(); c.dispose();
});

test('bf16 round trip through to() keeps values representable in bf16', () => {
  const vals = [0, 1, -2, 0.5, 3.140625, -(2 ** 100), 65536];
  const t = Tensor.from(vals);
  const b = t.to('bf16');
  assert.equal(b.dtype, 'bf16');
  assert.deepEqual(b.to('f32').toArray(), vals);
  t.dispose(); b.dispose();
});

test('storage is freed when the last view is disposed, and scopes dispose what they created', async () => {
  await settleNativeMemory(() => addon.memoryStats().liveBytes);
  const live0 = addon.memoryStats().liveBytes;
  const kept = scope(() => {
    const a = Tensor.zeros([1000]);
    const v = a.reshape([10, 100]);
    Tensor.zeros([5000]);
    return keep(v);
  });
  // a and the 5000-element tensor are gone; v still holds a's storage
  assert.ok(addon.memoryStats().liveBytes - live0 >= 4000);
  assert.equal(kept.toArray().length, 1000);
  kept.dispose();
  assert.equal(addon.memoryStats().liveBytes, live0);
  assert.throws(() => kept.data, /used after dispose/);
});

test('bad views are clear errors', () => {
  const t = Tensor.from(iota(6), [2, 3]);
  assert.throws(() => t.reshape([4, 2]), /cannot reshape f32\[2,3\] \(6 elements\) to \[4,2\]/);
  assert.throws(() => t.slice(1, 2, 5), /out of range/);
  assert.throws(() => t.transpose(0, 2), /out of range/);
  assert.throws(() => t.transpose(0, 1).data, /not contiguous/);
  t.dispose();
});
