// One error type for the tokenizer: every message says what went wrong and where (file, byte offset,
// JSON path, component), and `hint` says how to fix it. The CLI prints message + hint on one line.
export class TokenizerError extends Error {
  readonly code: string;
  readonly hint?: string;
  constructor(message: string, opts: { code: string; hint?: string }) {
    super(opts.hint ? `${message} (${opts.hint})` : message);
    this.name = 'TokenizerError';
    this.code = opts.code;
    this.hint = opts.hint;
  }
}
