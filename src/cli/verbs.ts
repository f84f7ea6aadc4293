// The list of verbs. Adding a verb = one file exporting register<Verb>(program) + one line here.
import type { Command } from 'commander';
import { registerData } from './data.js';

export function registerVerbs(program: Command): void {
  void program;
  registerData(program);
}
