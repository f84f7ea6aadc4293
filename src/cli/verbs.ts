// The list of verbs. Adding a verb = one file exporting register<Verb>(program) + one line here.
import type { Command } from 'commander';
import { registerInfo } from './info.js';
import { registerDemo } from './demo.js';
import { registerTrain } from './train.js';
import { registerTokenizer } from './tokenizer.js';
import { registerData } from './data.js';
import { registerExport } from './export.js';
import { registerGenerate } from './generate.js';
import { registerChat } from './chat.js';
import { registerServe } from './serve.js';

export function registerVerbs(program: Command): void {
  registerInfo(program);
  registerData(program);
  registerTokenizer(program);
  registerTrain(program);
  registerExport(program);
  registerDemo(program);
  registerGenerate(program);
  registerChat(program);
  registerServe(program);
}
