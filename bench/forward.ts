import type { BenchOptions } from './common.js';
import { runSuite } from './train.js';

export const run = (opts: BenchOptions) => runSuite(opts, 'forward');
