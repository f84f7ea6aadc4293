// Picks the backend: the native addon (default) or the TypeScript reference (DSLLM_BACKEND=reference,
// or automatically with a warning when the addon is not built).
import { useBackend } from '../core/runtime.js';
import { referenceKernels } from './reference/index.js';
import type { Allocator } from '../core/storage.js';

export type BackendName = 'native' | 'reference';

export async function selectBackend(name: BackendName = (process.env.DSLLM_BACKEND as BackendName) || 'native'): Promise<BackendName> {
  if (name === 'reference') {
    useBackend(referenceKernels);
    return 'reference';
  }
  let nativeKernels, addon;
  try {
    ({ nativeKernels } = await import('./native/index.js'));
    ({ addon } = await import('./native/addon.js'));
  } catch (e) {
    process.stderr.write(`dsllm: ${(e as Error).message}\ndsllm: falling back to the (slow) TypeScript reference backend\n`);
    useBackend(referenceKernels);
    return 'reference';
  }
  const alloc: Allocator = {
    name: 'native',
    alloc: (bytes, zero) => addon.alloc(bytes, zero) as ArrayBuffer,
    free: (buf) => addon.free(buf),
  };
  useBackend(nativeKernels, alloc);
  return 'native';
}
