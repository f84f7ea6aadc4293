// Bad input to generation (a prompt longer than the context, an id outside the vocabulary, a sampling
// option out of range, a model path we cannot load): one clear line for the user, exit 2 in the CLI.
export class InferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InferenceError';
  }
}
