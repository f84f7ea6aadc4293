// One place that turns an exception into what a user sees. Errors of dsllm's own classes
// (ConfigError, DataError, TrainError, SafetensorsError, OpError, …: bad input, with what/where/why
// in the message) print one line and exit 2. Anything else is a bug: message and stack, exit 1.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

const BUILTIN = new Set(['Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError', 'AggregateError']);

export function isUserError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  // commander's own errors, and errors the CLI raised on purpose with a plain Error while validating options
  return !BUILTIN.has(e.name) || (e as { code?: string }).code?.startsWith('commander.') === true || (e as { user?: boolean }).user === true;
}

export function reportError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`dsllm: ${msg}\n`);
  const user = isUserError(e);
  if ((!user || process.env.DSLLM_DEBUG) && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  process.exitCode = user ? 2 : 1;
}
