// The list of verbs. Adding a verb = one file exporting register<Verb>(program) + one line here.
import type { Command } from 'commander';

export function registerVerbs(program: Command): void {
  void program;
}
