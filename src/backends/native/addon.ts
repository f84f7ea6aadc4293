// Loads the compiled addon (build/Release/dsllm.node, built by `npm ci` through node-gyp).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The raw addon: untyped on purpose; each family file wraps the functions it owns. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Addon = Record<string, any>;

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('dsllm: cannot find the package root (binding.gyp) above ' + fileURLToPath(import.meta.url));
}

function load(): Addon {
  const root = findRoot();
  const path = join(root, 'build', 'Release', 'dsllm.node');
  if (!existsSync(path)) {
    throw new Error(`dsllm: native addon not built (${path} missing). Run \`npm ci\` or \`npm run build:native\` in ${root}.`);
  }
  return createRequire(import.meta.url)(path) as Addon;
}

export const addon: Addon = load();
