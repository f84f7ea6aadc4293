// One place that turns an exception into a clear one-line message and a non-zero exit code:
// users see what went wrong and where, not a stack trace (set DSLLM_DEBUG=1 to get the stack).
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function reportError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`dsllm: ${msg}\n`);
  if (process.env.DSLLM_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
}
