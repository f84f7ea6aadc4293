// Errors of the inference model side: bad checkpoints (what file, which tensor, what was expected)
// and bad requests (a prompt longer than the sequence's room). Both are user errors (one line, exit 2).
export class ModelLoadError extends Error {
  constructor(where: string, msg: string) {
    super(`${where}: ${msg}`);
    this.name = 'ModelLoadError';
  }
}

export class ContextOverflowError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'ContextOverflowError';
  }
}

/** A step the model cannot run: a token id outside the vocabulary, an empty input, a sequence twice. */
export class StepInputError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'StepInputError';
  }
}

/** What `InferenceModel` runs: HF architectures whose weights and math are DeepSeek LLM's. */
export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM'];
export const SUPPORTED_MODEL_TYPES = ['llama'];
