// OpenAI-compatible HTTP server and web chat page over an Engine.
export { createDsllmServer, type DsllmServer, type ServeOptions } from './server.js';
export { ApiError } from './errors.js';
