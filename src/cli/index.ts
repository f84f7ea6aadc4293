#!/usr/bin/env node
// `dsllm <verb>`: a thin layer that parses, validates, calls the library and prints.
// Each verb lives in its own file and registers itself on the program.
import { Command } from 'commander';
import { registerVerbs } from './verbs.js';
import { reportError } from './errors.js';

const program = new Command();
program
  .name('dsllm')
  .description('DeepSeek LLM toolkit: data, tokenizer, model, training, scaling laws, alignment, evaluation, inference')
  .version('0.1.0')
  .showHelpAfterError();
registerVerbs(program, process.argv[2])
  .then(() => program.parseAsync(process.argv))
  .catch(reportError);
