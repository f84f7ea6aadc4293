// Run-wide compute precision (as torch autocast): 'bf16' makes matmuls round their inputs to bf16
// and accumulate in f32; weights, activations between ops, gradients and optimizer state stay f32.
let bf16 = false;

export function setComputeDType(d: 'f32' | 'bf16'): void { bf16 = d === 'bf16'; }
export function computeBf16(): boolean { return bf16; }
