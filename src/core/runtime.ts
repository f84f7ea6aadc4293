// The active backend (kernels + allocator). Native by default when the addon loads; tests switch to
// the reference backend to compare. Everything above core/ calls kernels() and never imports a backend.
import type { Kernels } from './backend.js';
import { setAllocator, type Allocator, jsAllocator } from './storage.js';

let active: Kernels | null = null;

export function kernels(): Kernels {
  if (!active) throw new Error('dsllm: no backend selected (import "dsllm" or call useBackend())');
  return active;
}

export function useBackend(k: Kernels, alloc: Allocator = jsAllocator): void {
  active = k;
  setAllocator(alloc);
}
